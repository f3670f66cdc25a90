// Case statuses and ladder steps as residents and staff see them.
const STATUS = {
  submitted: { label: '已提交', color: '#888888' },
  dispatched: { label: '待签收', color: '#1485EE' },
  accepted: { label: '办理中', color: '#FA9D3B' },
  resolved: { label: '已办结', color: '#07C160' },
  closed: { label: '已关闭', color: '#576B95' },
  returned: { label: '已退回', color: '#E64340' },
  reopened: { label: '重新办理', color: '#FA5151' },
  rejected: { label: '未受理', color: '#B2B2B2' },
  merged: { label: '已合并', color: '#B2B2B2' },
}

const STEPS = {
  warning: { label: '预警', color: '#FFC300' },
  overdue: { label: '超期', color: '#FA9D3B' },
  supervision: { label: '督办', color: '#FA5151' },
  leader: { label: '挂牌督办', color: '#C6262E' },
}

const EVENTS = {
  submitted: '提交',
  dispatched: '派发',
  accepted: '签收',
  progress: '进展',
  returned: '退回',
  extension_requested: '申请延期',
  extension_approved: '延期获批',
  extension_denied: '延期未批',
  resolved: '办结',
  rated: '评价',
  reopened: '重新打开',
  rejected: '不予受理',
  merged: '合并',
  closed: '关闭',
  escalated: '督办',
  violation_confirmed: '查实违规',
  violation_withdrawn: '撤销认定',
  ladder_step: '信用惩戒',
  ladder_withdrawn: '撤回惩戒',
}

function badge(status) {
  return STATUS[status] || { label: status || '未知', color: '#888888' }
}

function stepBadge(step) {
  return step ? STEPS[step] || { label: step, color: '#FA5151' } : null
}

function isOverdue(item, now) {
  return Boolean(item.due_at) && new Date(item.due_at).getTime() < now
}

// The staff queue: overdue first, then the soonest deadline, ties oldest first.
function sortQueue(items, now) {
  const t = now === undefined ? Date.now() : now
  const time = (v) => (v ? new Date(v).getTime() : Infinity)
  return items.slice().sort((a, b) => {
    const ao = isOverdue(a, t) ? 0 : 1
    const bo = isOverdue(b, t) ? 0 : 1
    if (ao !== bo) return ao - bo
    const byDue = time(a.due_at || a.accept_due_at) - time(b.due_at || b.accept_due_at)
    if (byDue !== 0) return byDue
    return time(a.created_at) - time(b.created_at)
  })
}

function pad(n) {
  return n < 10 ? '0' + n : '' + n
}

// ISO with offset -> "6月3日 14:30" in the phone's time zone.
function formatTime(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  return d.getMonth() + 1 + '月' + d.getDate() + '日 ' + pad(d.getHours()) + ':' + pad(d.getMinutes())
}

function remaining(iso, now) {
  if (!iso) return ''
  const diff = new Date(iso).getTime() - (now === undefined ? Date.now() : now)
  const hours = Math.abs(diff) / 3600000
  const text = hours >= 24 ? Math.floor(hours / 24) + '天' : hours >= 1 ? Math.floor(hours) + '小时' : Math.max(1, Math.floor(hours * 60)) + '分钟'
  return diff >= 0 ? '剩余' + text : '已超期' + text
}

module.exports = { STATUS, STEPS, EVENTS, badge, stepBadge, isOverdue, sortQueue, formatTime, remaining }

// How a case's state looks: colours by code (the words come from
// utils/labels.js) and times as people read them.
const STATUS_COLORS = {
  submitted: '#888888',
  dispatched: '#1485EE',
  accepted: '#FA9D3B',
  resolved: '#07C160',
  closed: '#576B95',
  returned: '#E64340',
  reopened: '#FA5151',
  rejected: '#B2B2B2',
  merged: '#B2B2B2',
  referred: '#576B95',
}

const STEP_COLORS = {
  warning: '#FFC300',
  overdue: '#FA9D3B',
  supervision: '#FA5151',
  leader: '#C6262E',
}

function statusColor(status) {
  return STATUS_COLORS[status] || '#888888'
}

function stepColor(step) {
  return step ? STEP_COLORS[step] || '#FA5151' : ''
}

// The server's ISO 8601 times may carry microseconds, which iOS's JavaScript
// engine refuses: keep milliseconds at most.
function parseTime(iso) {
  if (iso instanceof Date) return iso
  return new Date(String(iso).replace(/(\.\d{3})\d+/, '$1'))
}

function pad(n) {
  return n < 10 ? '0' + n : '' + n
}

// ISO with offset -> "6月3日 14:30" in the phone's time zone.
function formatTime(iso) {
  if (!iso) return ''
  const d = parseTime(iso)
  return d.getMonth() + 1 + '月' + d.getDate() + '日 ' + pad(d.getHours()) + ':' + pad(d.getMinutes())
}

// "2026-06-30" for a date picker.
function formatDate(d) {
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate())
}

function remaining(iso, now) {
  if (!iso) return ''
  const diff = parseTime(iso).getTime() - (now === undefined ? Date.now() : now)
  const hours = Math.abs(diff) / 3600000
  const text = hours >= 24 ? Math.floor(hours / 24) + '天' : hours >= 1 ? Math.floor(hours) + '小时' : Math.max(1, Math.floor(hours * 60)) + '分钟'
  return diff >= 0 ? '剩余' + text : '已超期' + text
}

module.exports = { statusColor, stepColor, parseTime, formatTime, formatDate, remaining }

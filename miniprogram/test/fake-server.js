// A small in-memory backend speaking the API contract, plugged into the wx
// mock: it knows who calls (by bearer token), lists each case's "actions"
// for the caller the way the server's lifecycle table does, keeps
// subscription quotas, and records every call for the tests to check.
const LABELS = {
  statuses: { submitted: '已提交', dispatched: '待签收', accepted: '办理中', resolved: '已办结', closed: '已关闭', returned: '已退回', reopened: '重新办理', rejected: '不予受理', merged: '已合并', referred: '已移交' },
  steps: { warning: '预警', overdue: '超期', supervision: '督办', leader: '挂牌督办' },
  events: {
    submitted: '提交', dispatched: '派发', accepted: '签收', progress: '进展', returned: '退回', extension_requested: '申请延期',
    extension_approved: '延期获批', extension_denied: '延期未批', resolved: '办结', rated: '评价', reopened: '重新办理',
    rejected: '不予受理', merged: '合并', closed: '关闭', escalated: '督办', referred: '移交',
  },
  roles: { resident: '居民', handler: '承办人', head: '部门负责人', supervisor: '督办人员', admin: '管理员' },
  ladder: { 0: '无', 1: '约谈整改', 2: '降星', 3: '清退', 4: '黑名单' },
  deadlines: { accept: '签收', resolve: '办结' },
}

const TEMPLATES = { new_case: 'TPL_NEW', escalation: 'TPL_ESC', case_update: 'TPL_UPD' }
const DEPARTMENTS = [
  { id: 11, name: '综合执法局', kind: 'department' },
  { id: 12, name: '住建局', kind: 'department' },
  { id: 13, name: '公安局', kind: 'department' },
  { id: 21, name: '李俊镇', kind: 'township' },
]
const USERS = {
  resident: { id: 1, role: 'resident', department: null },
  handler: { id: 2, role: 'handler', department: DEPARTMENTS[0] },
  cohandler: { id: 3, role: 'handler', department: DEPARTMENTS[1] },
  township: { id: 6, role: 'handler', department: DEPARTMENTS[3] },
  supervisor: { id: 4, role: 'supervisor', department: DEPARTMENTS[1] },
  head: { id: 5, role: 'head', department: DEPARTMENTS[0] },
  newcomer: { id: 7, role: 'resident', department: null },
}
const CATEGORIES = [
  { code: 'dog_unleashed', name: '遛狗不拴绳', group: '治脏', route: 'dirt-5', urgent: false, help: '小区内遛狗不拴绳' },
  { code: 'flying_wire_charging', name: '飞线充电', group: '治脏', route: 'dirt-6', urgent: true },
  { code: 'fee_coercion', name: '停水停电催缴物业费', group: '治乱', route: 'order-1', urgent: false, clause: 1 },
]
const COMMUNITIES = [{ id: 3, name: '幸福小区', township: '李俊镇', address: '', property_company: '安居物业' }]
const OPEN = ['submitted', 'dispatched', 'accepted', 'reopened']

function iso(hoursFromNow) {
  return new Date(Date.now() + hoursFromNow * 3600000).toISOString()
}

function ok(data, status) {
  return { statusCode: status || 200, data }
}

function fail(status, code, message, header) {
  return { statusCode: status, data: { error: { code, message } }, header: header || {} }
}

// The lifecycle table: who may take which step now.
function actionsFor(c, user) {
  if (user.role === 'resident') return c.reporter === user.id && c.status === 'resolved' ? ['rate', 'reopen'] : []
  if (user.role === 'supervisor' || user.role === 'admin') {
    if (c.status === 'returned') return ['dispatch', 'reject', 'merge']
    return OPEN.indexOf(c.status) >= 0 ? ['reject', 'merge', 'refer'] : []
  }
  const mine = c.departments.find((d) => user.department && d.id === user.department.id)
  if (!mine || OPEN.indexOf(c.status) < 0) return []
  if (mine.role !== '主办') return ['progress']
  if (c.status === 'dispatched') return ['accept', 'return', 'refer']
  return ['progress', 'resolve', 'return'].concat(c.pending_extension ? [] : ['extension'], ['refer'])
}

function myRole(c, user) {
  const mine = user.department && c.departments.find((d) => d.id === user.department.id)
  return mine ? mine.role : null
}

function photo(id) {
  return { id, width: 1024, height: 768, url: '/api/v1/photos/' + id + '?sig=s', thumb_url: '/api/v1/photos/' + id + '/thumb?sig=s' }
}

function event(c, kind, by, extra) {
  c.timeline.push(Object.assign({ at: new Date().toISOString(), kind, by, note: '', step: null, photos: [] }, extra || {}))
}

function newCase(id, fields) {
  return Object.assign(
    {
      id, number: 'YN20260603-000' + id, category: 'dog_unleashed', category_name: '遛狗不拴绳', status: 'dispatched', reporter: USERS.resident.id,
      community: { id: 3, name: '幸福小区', township: '李俊镇' }, description: '小区里有人遛狗不拴绳，吓到孩子', location_text: '3号楼东侧',
      lat: 38.28, lng: 106.25, departments: [{ id: 11, name: '综合执法局', role: '主办' }, { id: 12, name: '住建局', role: '协办' }, { id: 21, name: '李俊镇', role: '属地' }],
      accept_due_at: iso(4), resolve_due_at: iso(72), created_at: iso(-1), escalation_step: null, needs_review: false,
      photos: [], timeline: [], pending_extension: null, reject_reason: null, merged_into: null,
    },
    fields || {},
  )
}

// The wx mock's responder: route by method and path, as the caller.
function handle(server, options) {
  const s = server.s
  const [pathname, query] = options.url.replace(/^https?:\/\/[^/]+/, '').split('?')
  const method = options.method || 'GET'
  const auth = (options.header && options.header.Authorization) || ''
  const user = s.tokens[auth.replace('Bearer ', '')] || null
  const body = typeof options.data === 'string' ? JSON.parse(options.data || '{}') : options.data || {}
  s.log.push({ method, path: pathname, query: query || '', body, user: user && user.id, header: options.header || {} })
  for (const [m, pattern, fn, open] of require('./fake-routes').ROUTES) {
    const match = method === m && pathname.match(pattern)
    if (!match) continue
    if (!open && !user) return fail(401, 'unauthorized', '请先登录')
    return fn(server, user, match, body, new URLSearchParams(query || ''), options.header || {})
  }
  return fail(404, 'not_found', '找不到该资源')
}

function createServer() {
  const s = { tokens: {}, loginAs: 'resident', cases: {}, nextCase: 1, nextPhoto: 1, quota: {}, extensions: [], keys: {}, unavailable: { cases: 0, photos: 0 }, log: [] }
  const server = {
    s,
    photo,
    event,
    addCase(fields) {
      const c = newCase(s.nextCase++, fields)
      if (!c.timeline.length) {
        event(c, 'submitted', '居民', { photos: c.photos })
        event(c, 'dispatched', '系统')
      }
      s.cases[c.id] = c
      return c
    },
    caseFor: (c, user) => Object.assign(JSON.parse(JSON.stringify(c)), { actions: actionsFor(c, user), my_role: myRole(c, user) }),
    step: (c, user, action) => (actionsFor(c, user).indexOf(action) < 0 ? fail(c.status === 'closed' ? 409 : 403, 'not_allowed', '当前不能进行该操作') : null),
    handle: (options) => handle(server, options),
    // The calls made to a path (by regexp), for assertions.
    calls: (method, pattern) => s.log.filter((c) => c.method === method && pattern.test(c.path)),
    login(who) {
      s.loginAs = who
    },
    tokenOf(who) {
      const token = 'tok-' + who
      if (!s.tokens[token]) s.tokens[token] = JSON.parse(JSON.stringify(USERS[who]))
      return token
    },
  }
  return server
}

module.exports = { createServer, actionsFor, myRole, ok, fail, iso, LABELS, TEMPLATES, USERS, DEPARTMENTS, CATEGORIES, COMMUNITIES, OPEN }

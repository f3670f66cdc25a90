// The fake backend's routes: [method, path pattern, handler, open (no login)].
// Handlers get (server, user, match, body, query) and answer {statusCode, data}.
const { actionsFor, ok, fail, iso, LABELS, TEMPLATES, USERS, DEPARTMENTS, CATEGORIES, COMMUNITIES } = require('./fake-server')

const STAFF = ['handler', 'head', 'supervisor', 'admin']
const SUPERVISORS = ['supervisor', 'admin']
const page = (items) => ok({ items, page: 1, per_page: 20, total: items.length })

function visible(c, user) {
  if (SUPERVISORS.indexOf(user.role) >= 0) return true
  if (user.role === 'resident') return c.reporter === user.id
  return c.departments.some((d) => user.department && d.id === user.department.id)
}

function found(server, user, id) {
  const c = server.s.cases[Number(id)]
  return c && visible(c, user) ? c : null
}

function unavailable(server, which) {
  if (server.s.unavailable[which] <= 0) return null
  server.s.unavailable[which] -= 1
  return fail(503, 'unavailable', '服务正在恢复，请稍后再试', { 'Retry-After': '1' })
}

function login(server) {
  const token = server.tokenOf(server.s.loginAs)
  return ok({ token, user: server.s.tokens[token] })
}

function bind(server, user, m, body) {
  if (body.binding_code.replace(/-/g, '').toUpperCase() !== 'ABCDEFGHJKMN') return fail(404, 'bad_binding_code', '绑定码不正确，请核对后重试')
  Object.assign(user, { role: 'handler', department: DEPARTMENTS[0] })
  return ok({ user })
}

function subscriptions(server, user, m, body) {
  const quota = (server.s.quota[user.id] = server.s.quota[user.id] || {})
  Object.keys(body || {}).forEach((id) => {
    if (body[id] === 'accept' && Object.values(TEMPLATES).indexOf(id) >= 0) quota[id] = (quota[id] || 0) + 1
  })
  return ok({ quota: Object.assign({}, quota) })
}

function upload(server) {
  const busy = unavailable(server, 'photos')
  if (busy) return Object.assign(busy, { data: JSON.stringify(busy.data) })
  return { statusCode: 201, data: JSON.stringify(server.photo('ph' + server.s.nextPhoto++)) }
}

function file(server, user, m, body, q, header) {
  const busy = unavailable(server, 'cases')
  if (busy) return busy
  const key = header['Idempotency-Key']
  const seen = key && server.s.keys[user.id + ':' + key]
  if (seen) return JSON.stringify(seen.body) === JSON.stringify(body) ? ok(server.caseFor(seen.c, user)) : fail(422, 'idempotency_key_reused', '这份报事已经提交过，请到“我的工单”查看')
  const c = server.addCase({ category: body.category, description: body.description, location_text: body.location_text, reporter: user.id, photos: body.photo_ids.map((id) => server.photo(id)) })
  if (key) server.s.keys[user.id + ':' + key] = { body, c }
  return ok(server.caseFor(c, user), 201)
}

function caseStep(server, user, m, body) {
  const c = found(server, user, m[1])
  if (!c) return fail(404, 'not_found', '找不到该工单')
  const action = { rating: 'rate' }[m[2]] || m[2]
  const refused = server.step(c, user, action)
  if (refused) return refused
  const by = user.department ? user.department.name : '居民'
  const photos = (body.photo_ids || []).map((id) => server.photo(id))
  if (action === 'resolve' && !photos.length) return fail(422, 'evidence_required', '办结需要至少一张现场照片')
  const next = { accept: 'accepted', resolve: 'resolved', return: 'returned', reopen: 'reopened', rate: 'closed', dispatch: 'dispatched', reject: 'rejected', merge: 'merged' }[action]
  if (next) c.status = next
  if (action === 'reject') c.reject_reason = body.reason
  if (action === 'merge') c.merged_into = body.into
  if (action === 'extension') {
    const ext = { id: server.s.extensions.length + 1, case: { id: c.id, number: c.number }, until: body.until + 'T23:59:59+08:00', reason: body.reason, status: 'pending' }
    server.s.extensions.push(ext)
    c.pending_extension = { id: ext.id, until: ext.until, reason: ext.reason }
  }
  const kinds = { accept: 'accepted', rate: 'rated', extension: 'extension_requested', dispatch: 'dispatched', refer: 'referred' }
  server.event(c, kinds[action] || (next || action), by, { note: body.note || body.reason || body.comment || '', photos })
  return ok(action === 'extension' ? { id: server.s.extensions.length, status: 'pending' } : server.caseFor(c, user))
}

function queue(server, user, m, body, q) {
  if (STAFF.indexOf(user.role) < 0) return fail(403, 'forbidden', '仅限工作人员')
  const items = Object.values(server.s.cases)
    .filter((c) => visible(c, user) && c.departments.some((d) => d.id === user.department.id) && ['dispatched', 'accepted', 'reopened', 'returned'].indexOf(c.status) >= 0)
    .filter((c) => !q.get('status') || c.status === q.get('status'))
    .map((c) => {
      const due = c.status === 'dispatched' ? c.accept_due_at : c.resolve_due_at
      return Object.assign(server.caseFor(c, user), { due_at: due, overdue: new Date(due) < new Date() })
    })
    .sort((a, b) => new Date(a.due_at) - new Date(b.due_at))
  return page(items)
}

function decide(server, user, m, body) {
  const ext = server.s.extensions[Number(m[1]) - 1]
  if (!ext || ext.status !== 'pending') return fail(409, 'not_pending', '该延期申请已处理')
  ext.status = m[2] === 'approve' ? 'approved' : 'denied'
  const c = server.s.cases[ext.case.id]
  c.pending_extension = null
  if (ext.status === 'approved') c.resolve_due_at = ext.until
  server.event(c, 'extension_' + ext.status, '住建局', { note: body.reason || '' })
  return ok(ext)
}

function overdue(server, user) {
  const items = Object.values(server.s.cases)
    .filter((c) => c.escalation_step)
    .map((c) => ({ id: c.id, number: c.number, category: c.category, category_name: c.category_name, community: c.community, township: '李俊镇', department: c.departments[0].name, status: c.status, deadline: c.status === 'dispatched' ? 'accept' : 'resolve', due_at: iso(-30), overdue_hours: 30, escalation_step: c.escalation_step }))
  return page(items)
}

function confirmConsole(server, user, m) {
  if (['head', 'supervisor', 'admin'].indexOf(user.role) < 0) return fail(403, 'console_forbidden', '您的身份不能登录电脑端')
  return m[1] === 'ABCD1234' ? ok({ status: 'confirmed' }) : fail(404, 'login_not_found', '登录码无效或已过期，请刷新电脑上的二维码')
}

const supervisorsOnly = (fn) => (server, user, ...rest) => (SUPERVISORS.indexOf(user.role) >= 0 ? fn(server, user, ...rest) : fail(403, 'forbidden', '仅限督办人员'))
const rankingRow = (d, i) => ({ id: d.id, rank: i + 1, name: d.name, score: 90 - i, received: 10, accepted_on_time_pct: 90, resolved_on_time_pct: 80, overdue_now: i, satisfaction: 4.5 })

const ROUTES = [
  ['POST', /^\/api\/v1\/auth\/wechat-login$/, login, true],
  ['POST', /^\/api\/v1\/auth\/bind-staff$/, bind],
  ['GET', /^\/api\/v1\/labels$/, () => ok(LABELS), true],
  ['GET', /^\/api\/v1\/categories$/, () => page(CATEGORIES), true],
  ['GET', /^\/api\/v1\/communities$/, () => page(COMMUNITIES), true],
  ['GET', /^\/api\/v1\/communities\/(\d+)$/, () => ok({ id: 3, name: '幸福小区', township: '李俊镇', property_company: { id: 1, name: '安居物业', star_rating: 3, ladder_step: 2 }, responsibilities: [], disclosures: [{ item: '服务合同', content: '', updated_at: null }] }), true],
  ['GET', /^\/api\/v1\/departments$/, () => page(DEPARTMENTS)],
  ['GET', /^\/api\/v1\/subscribe-templates$/, () => ok(TEMPLATES)],
  ['GET', /^\/api\/v1\/staff\/subscriptions$/, (server, user) => ok({ quota: Object.assign({}, server.s.quota[user.id] || {}) })],
  ['POST', /^\/api\/v1\/staff\/subscriptions$/, subscriptions],
  ['UPLOAD', /^\/api\/v1\/photos$/, upload],
  ['POST', /^\/api\/v1\/cases$/, file],
  ['GET', /^\/api\/v1\/cases\/mine$/, (server, user) => page(Object.values(server.s.cases).filter((c) => c.reporter === user.id).map((c) => server.caseFor(c, user)))],
  ['GET', /^\/api\/v1\/cases\/(\d+)$/, (server, user, m) => (found(server, user, m[1]) ? ok(server.caseFor(found(server, user, m[1]), user)) : fail(404, 'not_found', '找不到该工单，或您无权查看'))],
  ['POST', /^\/api\/v1\/cases\/(\d+)\/(rating|reopen)$/, caseStep],
  ['GET', /^\/api\/v1\/staff\/cases$/, queue],
  ['POST', /^\/api\/v1\/staff\/cases\/(\d+)\/(accept|progress|resolve|return|extension|refer)$/, caseStep],
  ['GET', /^\/api\/v1\/supervision\/overdue$/, supervisorsOnly(overdue)],
  ['GET', /^\/api\/v1\/supervision\/extensions$/, supervisorsOnly((server) => page(server.s.extensions.filter((e) => e.status === 'pending')))],
  ['POST', /^\/api\/v1\/supervision\/extensions\/(\d+)\/(approve|deny)$/, supervisorsOnly(decide)],
  ['POST', /^\/api\/v1\/supervision\/cases\/(\d+)\/(dispatch|reject|merge)$/, supervisorsOnly(caseStep)],
  ['GET', /^\/api\/v1\/supervision\/rankings$/, supervisorsOnly(() => ok({ period: '2026-06', departments: DEPARTMENTS.slice(0, 3).map(rankingRow), townships: [rankingRow(DEPARTMENTS[3], 0)] }))],
  ['DOWNLOAD', /^\/api\/v1\/supervision\/(overdue|stats|rankings)\.xlsx$/, supervisorsOnly(() => ({ statusCode: 200, tempFilePath: 'wxfile://tmp/export.xlsx' }))],
  ['POST', /^\/api\/v1\/console\/logins\/([A-Za-z0-9-]+)\/confirm$/, confirmConsole],
]

module.exports = { ROUTES, USERS, actionsFor }

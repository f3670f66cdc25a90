// The steps the server lists in a case's "actions": what each asks for,
// where it is sent, and the checks a person can fix before sending. Which
// steps are offered is never decided here: the server's list is shown as is.
const limits = require('./limits')

// The fields of each step's form, in order.
const FIELDS = {
  accept: [],
  progress: ['note', 'photos'],
  resolve: ['note', 'photos', 'violation'],
  return: ['reason'],
  extension: ['until', 'reason'],
  refer: ['department', 'reason'],
  dispatch: ['category'],
  reject: ['reason'],
  merge: ['into'],
  rate: ['score', 'comment'],
  reopen: ['reason'],
}

// The timeline kind a step records: its name comes from the labels table.
const EVENT_KIND = {
  accept: 'accepted',
  progress: 'progress',
  resolve: 'resolved',
  return: 'returned',
  extension: 'extension_requested',
  refer: 'referred',
  dispatch: 'dispatched',
  reject: 'rejected',
  merge: 'merged',
  rate: 'rated',
  reopen: 'reopened',
}

// Steps that cannot be taken back are confirmed once more.
const WARN = ['return', 'reject', 'merge']

function endpoint(action, caseId) {
  if (action === 'rate') return '/cases/' + caseId + '/rating'
  if (action === 'reopen') return '/cases/' + caseId + '/reopen'
  if (['dispatch', 'reject', 'merge'].indexOf(action) >= 0) return '/supervision/cases/' + caseId + '/' + action
  return '/staff/cases/' + caseId + '/' + action
}

function checkText(value, rule, name) {
  const text = (value || '').trim()
  if (text.length < rule.min) return rule.min > 1 ? name + '至少 ' + rule.min + ' 个字' : '请填写' + name
  if (text.length > rule.max) return name + '最多 ' + rule.max + ' 个字'
  return ''
}

// The first problem with the form, in plain words, or ''.
function validate(action, form, ctx) {
  const fields = FIELDS[action] || []
  const has = (f) => fields.indexOf(f) >= 0
  if (has('note')) {
    const problem = checkText(form.note, limits.note, '办理说明')
    if (problem) return problem
  }
  if (action === 'resolve' && !ctx.photoCount) return '办结需要至少一张现场照片'
  if (has('violation') && ctx.clause && !form.violation) return '请认定是否查实违反“九不准”'
  if (has('until') && !form.until) return '请选择延期到哪一天'
  if (has('department') && !form.department) return '请选择移交给哪个部门'
  if (has('category') && !form.category) return '请选择重新派发的问题类别'
  if (has('into')) {
    const into = Number(form.into)
    if (!/^\d+$/.test(String(form.into || '')) || into < 1) return '请填写要合并到的工单 ID（数字）'
    if (into === Number(ctx.caseId)) return '不能合并到本工单自己'
  }
  if (has('score') && !(form.score >= 1 && form.score <= 5)) return '请选择 1 到 5 星'
  if (has('comment') && (form.comment || '').length > limits.comment) return '评价最多 ' + limits.comment + ' 个字'
  if (has('reason')) return checkText(form.reason, limits.reason, '原因')
  return ''
}

// The JSON body of a step (photo ids already uploaded).
function body(action, form, photoIds, ctx) {
  switch (action) {
    case 'progress':
      return { note: form.note.trim(), photo_ids: photoIds || [] }
    case 'resolve':
      return Object.assign({ note: form.note.trim(), photo_ids: photoIds || [] }, ctx.clause ? { violation: form.violation } : {})
    case 'extension':
      return { reason: form.reason.trim(), until: form.until }
    case 'refer':
      return { department: form.department, reason: form.reason.trim() }
    case 'dispatch':
      return { category: form.category }
    case 'merge':
      return { into: Number(form.into) }
    case 'rate':
      return Object.assign({ score: form.score }, (form.comment || '').trim() ? { comment: form.comment.trim() } : {})
    case 'return':
    case 'reject':
    case 'reopen':
      return { reason: form.reason.trim() }
    default:
      return {}
  }
}

module.exports = { FIELDS, EVENT_KIND, WARN, endpoint, validate, body }

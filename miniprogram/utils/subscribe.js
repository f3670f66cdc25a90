// Subscribe messages, the way WeChat accepts them: the template ids are
// fetched ahead (at launch, and on the pages that ask), and
// wx.requestSubscribeMessage is called synchronously from the user's tap,
// before any network work; what the user answered is posted afterwards.
const { request } = require('./request')
const limits = require('./limits')

const KEY = 'subscribe_templates'

// Who is asked for what (the backend's purposes).
const PURPOSES = {
  resident: ['case_update'],
  staff: ['new_case', 'escalation'],
  supervisor: ['escalation'],
}

function cachedTemplates() {
  const entry = wx.getStorageSync(KEY)
  return (entry && entry.templates) || null
}

// GET /subscribe-templates, kept in storage for the next tap.
function loadTemplates() {
  return request({ url: '/subscribe-templates', silent: true }).then((templates) => {
    wx.setStorageSync(KEY, { fetched_at: Date.now(), templates })
    return templates
  })
}

// Before any tap that asks: the ids must already be at hand then.
function prefetch() {
  return cachedTemplates() ? Promise.resolve(cachedTemplates()) : loadTemplates().catch(() => null)
}

function subscribeIds(templates, purposes) {
  const ids = (purposes || []).map((p) => templates && templates[p]).filter(Boolean)
  return ids.filter((id, i) => ids.indexOf(id) === i).slice(0, limits.subscribeIds)
}

// Call first thing in a tap handler: shows WeChat's popup now, answers
// {template_id: accept|reject|ban|filter} later (null when nothing was asked).
function ask(purposes) {
  const ids = subscribeIds(cachedTemplates(), purposes)
  if (!ids.length) {
    // Not loaded yet: nothing to show this time; have them for the next tap.
    loadTemplates().catch(() => null)
    return Promise.resolve(null)
  }
  return new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: (res) => {
        const answers = {}
        ids.forEach((id) => {
          if (res[id]) answers[id] = res[id]
        })
        resolve(answers)
      },
      fail: () => resolve(null),
    })
  })
}

// POST the answers; answers {template_id: remaining} or null.
function record(answers) {
  if (!answers || !Object.keys(answers).length) return Promise.resolve(null)
  return request({ url: '/staff/subscriptions', method: 'POST', data: answers, silent: true })
    .then((res) => res.quota || {})
    .catch(() => null)
}

// ask() then record(): the whole flow; never fails the caller's action.
function askAndRecord(purposes) {
  return ask(purposes).then(record)
}

// {template_id: remaining} for the logged-in user.
function quota() {
  return request({ url: '/staff/subscriptions', silent: true }).then((res) => res.quota || {})
}

// Remaining reminders by purpose, for the templates the user is asked for.
function remainingByPurpose(templates, quotas, purposes) {
  return purposes
    .filter((p) => templates && templates[p])
    .map((p) => ({ purpose: p, remaining: (quotas && quotas[templates[p]]) || 0 }))
}

module.exports = {
  KEY,
  PURPOSES,
  cachedTemplates,
  loadTemplates,
  prefetch,
  subscribeIds,
  ask,
  record,
  askAndRecord,
  quota,
  remainingByPurpose,
}

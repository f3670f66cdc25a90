// Every word a county can rename (statuses, ladder steps, timeline events,
// roles, the property ladder, deadlines) comes from GET /labels, loaded at
// launch and kept in storage with its fetch time. Until it arrives a raw code
// is shown; no label table is copied here.
const { request } = require('./request')

const KEY = 'labels'
let loading = null

function cached() {
  const entry = wx.getStorageSync(KEY)
  return entry && entry.labels ? entry.labels : null
}

// Fetch the table again (at every launch); keeps the old copy on failure.
function refresh() {
  if (!loading) {
    const done = () => {
      loading = null
    }
    loading = request({ url: '/labels', anonymous: true, silent: true }).then((labels) => {
      wx.setStorageSync(KEY, { fetched_at: Date.now(), labels })
      return labels
    })
    loading.then(done, done)
  }
  return loading
}

// Resolves once a table is at hand (cached or fetched); never rejects.
function ready() {
  const table = cached()
  if (table) return Promise.resolve(table)
  return refresh().catch(() => null)
}

function lookup(group, code) {
  if (code === null || code === undefined || code === '') return ''
  const table = cached()
  const words = table && table[group]
  const word = words && words[String(code)]
  return word || String(code)
}

module.exports = {
  KEY,
  refresh,
  ready,
  status: (code) => lookup('statuses', code),
  step: (code) => lookup('steps', code),
  event: (kind) => lookup('events', kind),
  role: (role) => lookup('roles', role),
  ladder: (step) => lookup('ladder', step),
  deadline: (kind) => lookup('deadlines', kind),
}

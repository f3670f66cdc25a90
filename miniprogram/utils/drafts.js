// A report that could not be sent is kept on the phone with its
// Idempotency-Key, so sending it again later cannot file it twice.
const KEY = 'report_draft'

function save(draft) {
  wx.setStorageSync(KEY, Object.assign({ saved_at: Date.now() }, draft))
}

function load() {
  const draft = wx.getStorageSync(KEY)
  return draft && draft.key ? draft : null
}

function clear() {
  wx.removeStorageSync(KEY)
}

module.exports = { KEY, save, load, clear }

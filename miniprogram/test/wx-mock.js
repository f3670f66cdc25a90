// A scriptable `wx` for the tests: requests are answered from a queue of
// handlers, and every call is recorded.
function createWx() {
  const storage = {}
  const calls = { request: [], uploadFile: [], toast: [], login: 0 }
  const responders = []
  const uploads = []
  let loginCode = 0
  const wx = {
    calls,
    storage,
    respond(fn) {
      responders.push(fn)
    },
    onUpload(fn) {
      uploads.push(fn)
    },
    login({ success }) {
      calls.login += 1
      loginCode += 1
      success({ code: 'code-' + loginCode })
    },
    request(options) {
      calls.request.push(options)
      for (const fn of responders) {
        const answer = fn(options)
        if (answer) {
          if (answer.fail) options.fail(answer.fail)
          else options.success(answer)
          return
        }
      }
      options.success({ statusCode: 404, data: { error: { code: 'not_found', message: '找不到该资源' } } })
    },
    uploadFile(options) {
      calls.uploadFile.push(options)
      let progress = null
      const task = { onProgressUpdate: (fn) => (progress = fn) }
      const handler = uploads[0]
      setTimeout(() => {
        if (progress) progress({ progress: 50 })
        const answer = handler ? handler(options) : { statusCode: 201, data: JSON.stringify({ id: 'p-' + calls.uploadFile.length }) }
        if (progress) progress({ progress: 100 })
        if (answer.fail) options.fail(answer.fail)
        else options.success(answer)
      }, 0)
      return task
    },
    showToast(options) {
      calls.toast.push(options)
    },
    getStorageSync(key) {
      return storage[key] === undefined ? '' : storage[key]
    },
    setStorageSync(key, value) {
      storage[key] = value
    },
    removeStorageSync(key) {
      delete storage[key]
    },
  }
  return wx
}

module.exports = { createWx }

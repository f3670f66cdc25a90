// One request helper for every page: logs in with wx.login, keeps the
// backend's token in storage, logs in again on a 401 and repeats the call
// once, and turns {"error": {"message"}} into a toast.
const config = require('../config')

const TOKEN_KEY = 'token'
const USER_KEY = 'user'

function createClient(api, cfg) {
  cfg = cfg || config
  let loggingIn = null

  function url(path) {
    if (/^https?:\/\//.test(path)) return path
    if (path.indexOf(cfg.apiPrefix) === 0) return cfg.baseUrl + path
    return cfg.baseUrl + cfg.apiPrefix + path
  }

  function raw(options) {
    return new Promise((resolve, reject) => {
      api.request({
        url: url(options.url),
        method: options.method || 'GET',
        data: options.data,
        header: Object.assign({ 'Content-Type': 'application/json' }, options.header || {}),
        success: resolve,
        fail: (err) => reject(Object.assign(new Error('网络不可用，请稍后重试'), { cause: err, network: true })),
      })
    })
  }

  function login() {
    if (loggingIn) return loggingIn
    loggingIn = new Promise((resolve, reject) => {
      api.login({
        success: ({ code }) => {
          raw({ url: '/auth/wechat-login', method: 'POST', data: { code } })
            .then((res) => {
              if (res.statusCode === 200 && res.data && res.data.token) {
                api.setStorageSync(TOKEN_KEY, res.data.token)
                api.setStorageSync(USER_KEY, res.data.user)
                resolve(res.data.token)
              } else {
                reject(errorOf(res))
              }
            }, reject)
        },
        fail: () => reject(new Error('微信登录失败，请重试')),
      })
    })
    const done = () => {
      loggingIn = null
    }
    loggingIn.then(done, done)
    return loggingIn
  }

  function errorOf(res) {
    const error = (res && res.data && res.data.error) || {}
    const message = error.message || '请求失败（' + (res && res.statusCode) + '）'
    return Object.assign(new Error(message), { statusCode: res && res.statusCode, code: error.code })
  }

  function toast(message) {
    api.showToast({ title: message, icon: 'none', duration: 2500 })
  }

  async function withToken(send, options, retried) {
    const token = api.getStorageSync(TOKEN_KEY) || (await login())
    const res = await send(token)
    if (res.statusCode === 401 && !retried) {
      api.removeStorageSync(TOKEN_KEY)
      await login()
      return withToken(send, options, true)
    }
    if (res.statusCode >= 400) {
      const error = errorOf(res)
      if (!options.silent) toast(error.message)
      throw error
    }
    return res.data
  }

  function request(options) {
    const send = (token) =>
      raw(Object.assign({}, options, { header: Object.assign({ Authorization: 'Bearer ' + token }, options.header || {}) }))
    return withToken(send, options, false).catch((error) => {
      if (error.network && !options.silent) toast(error.message)
      throw error
    })
  }

  // wx.uploadFile: one file per request, field "file", with progress.
  function upload(options) {
    const send = (token) =>
      new Promise((resolve, reject) => {
        const task = api.uploadFile({
          url: url('/photos'),
          filePath: options.filePath,
          name: 'file',
          header: { Authorization: 'Bearer ' + token },
          success: (res) => {
            let data = res.data
            try {
              data = typeof data === 'string' ? JSON.parse(data) : data
            } catch (e) {
              data = {}
            }
            resolve({ statusCode: res.statusCode, data })
          },
          fail: (err) => reject(Object.assign(new Error('上传失败，请重试'), { cause: err, network: true })),
        })
        if (task && task.onProgressUpdate && options.onProgress) {
          task.onProgressUpdate((p) => options.onProgress(p.progress))
        }
      })
    return withToken(send, options, false)
  }

  function currentUser() {
    return api.getStorageSync(USER_KEY) || null
  }

  return { request, upload, login, currentUser, url }
}

let shared = null
function client() {
  if (!shared) shared = createClient(wx)
  return shared
}

module.exports = {
  createClient,
  TOKEN_KEY,
  request: (options) => client().request(options),
  upload: (options) => client().upload(options),
  login: () => client().login(),
  currentUser: () => client().currentUser(),
  absoluteUrl: (path) => client().url(path),
}

// One HTTP client for every page: logs in with wx.login, keeps the backend's
// token in storage, logs in again on a 401 and repeats the call once, turns
// {"error": {"message"}} into a toast, and - for the calls that ask for it -
// rides out a backend that is restarting (503 + Retry-After, or no network)
// by trying again with backoff.
const env = require('./env')

const TOKEN_KEY = 'token'
const USER_KEY = 'user'
const RETRIES = 3 // after the first attempt
const MAX_WAIT_MS = 8000

// 1 s, 2 s, 4 s, or what the server's Retry-After asks for (capped).
function defaultBackoff(attempt, retryAfterSeconds) {
  const ms = retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 1000 * Math.pow(2, attempt)
  return Math.min(ms, MAX_WAIT_MS)
}

function headerValue(headers, name) {
  const wanted = name.toLowerCase()
  const key = Object.keys(headers || {}).find((k) => k.toLowerCase() === wanted)
  return key ? headers[key] : undefined
}

// What to say when the server gave no message of its own.
const FALLBACK = {
  403: '没有权限进行此操作',
  404: '找不到该内容，可能已被删除或链接已过期',
  429: '操作太频繁，请稍后再试',
  503: '服务暂时不可用，请稍后再试',
}

function errorOf(res) {
  const error = (res && res.data && res.data.error) || {}
  const status = res && res.statusCode
  const message = error.message || FALLBACK[status] || (status >= 500 ? '服务器出错了，请稍后再试' : '请求未成功（' + status + '），请稍后再试')
  return Object.assign(new Error(message), { statusCode: status, code: error.code, unavailable: status === 503 })
}

function networkError(cause, message) {
  return Object.assign(new Error(message || '网络不可用，请检查网络后重试'), { cause, network: true, unavailable: true })
}

function parseJson(data) {
  if (typeof data !== 'string') return data
  try {
    return JSON.parse(data)
  } catch (e) {
    return {}
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

function base(ctx) {
  return ctx.cfg.baseUrl || env.baseUrl(ctx.api)
}

// An API path such as "/cases/mine".
function apiUrl(ctx, path) {
  if (/^https?:\/\//.test(path)) return path
  const prefix = ctx.cfg.apiPrefix || env.apiPrefix
  return base(ctx) + (path.indexOf(prefix) === 0 ? '' : prefix) + path
}

// A link the server handed out (photos): absolute, or starting with "/".
function absoluteUrl(ctx, path) {
  return !path || /^https?:\/\//.test(path) ? path : base(ctx) + path
}

function raw(ctx, options) {
  return new Promise((resolve, reject) => {
    ctx.api.request({
      url: apiUrl(ctx, options.url),
      method: options.method || 'GET',
      data: options.data,
      header: Object.assign({ 'Content-Type': 'application/json' }, options.header || {}),
      success: resolve,
      fail: (err) => reject(networkError(err)),
    })
  })
}

// wx.login, then the backend's token; concurrent callers share one login.
function login(ctx) {
  if (ctx.loggingIn) return ctx.loggingIn
  const api = ctx.api
  ctx.loggingIn = new Promise((resolve, reject) => {
    api.login({
      success: ({ code }) => {
        raw(ctx, { url: '/auth/wechat-login', method: 'POST', data: { code } }).then((res) => {
          if (res.statusCode !== 200 || !res.data || !res.data.token) return reject(errorOf(res))
          api.setStorageSync(TOKEN_KEY, res.data.token)
          api.setStorageSync(USER_KEY, res.data.user)
          resolve(res.data.token)
        }, reject)
      },
      fail: () => reject(new Error('微信登录失败，请重试')),
    })
  })
  const done = () => {
    ctx.loggingIn = null
  }
  ctx.loggingIn.then(done, done)
  return ctx.loggingIn
}

// One attempt, with a fresh login and one repeat on a 401.
async function withToken(ctx, send, options, retried) {
  const api = ctx.api
  const token = options.anonymous ? '' : api.getStorageSync(TOKEN_KEY) || (await login(ctx))
  const res = await send(token)
  if (res.statusCode === 401 && !retried && !options.anonymous) {
    api.removeStorageSync(TOKEN_KEY)
    await login(ctx)
    return withToken(ctx, send, options, true)
  }
  if (res.statusCode >= 400) throw Object.assign(errorOf(res), { retryAfter: Number(headerValue(res.header, 'Retry-After')) || 0 })
  return res.data
}

// Attempts until one answers, or the backend stayed away for every retry.
async function attempts(ctx, send, options) {
  const tries = options.retry ? ctx.retries + 1 : 1
  for (let attempt = 0; ; attempt++) {
    try {
      return await withToken(ctx, send, options, false)
    } catch (error) {
      if (!error.unavailable || attempt + 1 >= tries) throw error
      await sleep(ctx.backoff(attempt, error.retryAfter || 0))
    }
  }
}

function run(ctx, send, options) {
  return attempts(ctx, send, options).catch((error) => {
    if (!options.silent) ctx.api.showToast({ title: error.message, icon: 'none', duration: 2500 })
    throw error
  })
}

function authHeader(token, header) {
  return Object.assign(token ? { Authorization: 'Bearer ' + token } : {}, header || {})
}

function request(ctx, options) {
  const send = (token) => raw(ctx, Object.assign({}, options, { header: authHeader(token, options.header) }))
  return run(ctx, send, options)
}

// wx.uploadFile sends one file a request, in the field "file".
function upload(ctx, options) {
  const send = (token) =>
    new Promise((resolve, reject) => {
      const task = ctx.api.uploadFile({
        url: apiUrl(ctx, '/photos'),
        filePath: options.filePath,
        name: 'file',
        header: authHeader(token),
        success: (res) => resolve({ statusCode: res.statusCode, header: res.header, data: parseJson(res.data) }),
        fail: (err) => reject(networkError(err, '照片上传失败，请检查网络后重试')),
      })
      if (task && task.onProgressUpdate && options.onProgress) task.onProgressUpdate((p) => options.onProgress(p.progress))
    })
  return run(ctx, send, options)
}

// An export (.xlsx) to a temporary file on the phone; answers its path.
function download(ctx, options) {
  const send = (token) =>
    new Promise((resolve, reject) => {
      ctx.api.downloadFile({
        url: apiUrl(ctx, options.url),
        header: authHeader(token),
        success: (res) => resolve({ statusCode: res.statusCode, header: res.header, data: res.statusCode < 400 ? res.tempFilePath : {} }),
        fail: (err) => reject(networkError(err, '下载失败，请检查网络后重试')),
      })
    })
  return run(ctx, send, options)
}

function createClient(api, cfg) {
  cfg = cfg || {}
  const ctx = { api, cfg, loggingIn: null, backoff: cfg.backoff || defaultBackoff, retries: cfg.retries === undefined ? RETRIES : cfg.retries }
  return {
    api,
    request: (options) => request(ctx, options),
    upload: (options) => upload(ctx, options),
    download: (options) => download(ctx, options),
    login: () => login(ctx),
    currentUser: () => api.getStorageSync(USER_KEY) || null,
    setUser: (user) => api.setStorageSync(USER_KEY, user),
    apiUrl: (path) => apiUrl(ctx, path),
    absoluteUrl: (path) => absoluteUrl(ctx, path),
  }
}

// The pages' client, bound to the global wx.
let shared = null
function client() {
  if (!shared || shared.api !== wx) shared = createClient(wx)
  return shared
}

module.exports = {
  createClient,
  defaultBackoff,
  TOKEN_KEY,
  USER_KEY,
  request: (options) => client().request(options),
  upload: (options) => client().upload(options),
  download: (options) => client().download(options),
  login: () => client().login(),
  currentUser: () => client().currentUser(),
  setUser: (user) => client().setUser(user),
  absoluteUrl: (path) => client().absoluteUrl(path),
}

// The HTTP client: login, token, errors in plain Chinese, a restarting
// backend ridden out with backoff, uploads and downloads, the base URL per
// version of the mini-program.
const { createWx } = require('./wx-mock')
const { createClient, defaultBackoff } = require('../utils/request')
const env = require('../utils/env')
const config = require('../config')

const cfg = { baseUrl: 'https://county.example', apiPrefix: '/api/v1', backoff: () => 0 }

function loginResponder(wx) {
  wx.respond((o) => (o.url.endsWith('/auth/wechat-login') ? { statusCode: 200, data: { token: 'tok-' + o.data.code, user: { id: 1, role: 'resident' } } } : null))
}

test('logs in with wx.login, keeps the token and the user, and sends the token', async () => {
  const wx = createWx()
  loginResponder(wx)
  wx.respond((o) => (o.url.endsWith('/cases/mine') ? { statusCode: 200, data: { items: [], total: 0 } } : null))
  const client = createClient(wx, cfg)
  const answer = await client.request({ url: '/cases/mine' })
  expect(answer.total).toBe(0)
  expect(wx.storage.token).toBe('tok-code-1')
  expect(client.currentUser()).toEqual({ id: 1, role: 'resident' })
  const call = wx.calls.request.find((c) => c.url === 'https://county.example/api/v1/cases/mine')
  expect(call.header.Authorization).toBe('Bearer tok-code-1')
})

test('a 401 logs in again and repeats the call once; a second 401 is not retried forever', async () => {
  const wx = createWx()
  wx.storage.token = 'expired'
  loginResponder(wx)
  wx.respond((o) =>
    o.url.endsWith('/cases/mine')
      ? o.header.Authorization === 'Bearer expired'
        ? { statusCode: 401, data: { error: { code: 'token_expired', message: '登录已过期，请重新登录' } } }
        : { statusCode: 200, data: { items: [{ id: 7 }], total: 1 } }
      : null,
  )
  wx.respond((o) => (o.url.endsWith('/staff/cases') ? { statusCode: 401, data: { error: { code: 'x', message: '请先登录' } } } : null))
  const client = createClient(wx, cfg)
  expect((await client.request({ url: '/cases/mine' })).items[0].id).toBe(7)
  expect(wx.calls.login).toBe(1)
  expect(wx.calls.toast).toHaveLength(0)
  await expect(client.request({ url: '/staff/cases' })).rejects.toThrow('请先登录')
  expect(wx.calls.request.filter((c) => c.url.endsWith('/staff/cases'))).toHaveLength(2)
})

test("the backend's message becomes a toast; anonymous calls send no token and never log in", async () => {
  const wx = createWx()
  wx.storage.token = 't'
  wx.respond((o) => (o.url.endsWith('/cases') ? { statusCode: 429, data: { error: { code: 'daily_limit', message: '每天最多提交 20 件，请明天再试' } } } : null))
  wx.respond((o) => (o.url.endsWith('/labels') ? { statusCode: 200, data: { statuses: {} } } : null))
  const client = createClient(wx, cfg)
  const error = await client.request({ url: '/cases', method: 'POST', data: {} }).catch((e) => e)
  expect([error.statusCode, error.code]).toEqual([429, 'daily_limit'])
  expect(wx.calls.toast).toEqual([expect.objectContaining({ title: '每天最多提交 20 件，请明天再试', icon: 'none' })])
  delete wx.storage.token
  await client.request({ url: '/labels', anonymous: true })
  expect(wx.calls.request.pop().header.Authorization).toBeUndefined()
  expect(wx.calls.login).toBe(0)
})

test('without a message of its own, an error still reads as plain Chinese', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  wx.respond((o) => ({ statusCode: o.url.endsWith('/a') ? 403 : 500, data: '<html>' }))
  const client = createClient(wx, cfg)
  await expect(client.request({ url: '/a', silent: true })).rejects.toThrow('没有权限进行此操作')
  await expect(client.request({ url: '/b', silent: true })).rejects.toThrow('服务器出错了，请稍后再试')
})

test('a 503 or a lost network is retried (when asked) with backoff and Retry-After, then answered', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  let n = 0
  wx.respond((o) => {
    if (!o.url.endsWith('/cases')) return null
    n += 1
    if (n === 1) return { fail: { errMsg: 'request:fail timeout' } }
    if (n === 2) return { statusCode: 503, header: { 'retry-after': '3' }, data: { error: { code: 'unavailable', message: '服务正在恢复' } } }
    return { statusCode: 201, data: { id: 9 } }
  })
  const waits = []
  const client = createClient(wx, Object.assign({}, cfg, { backoff: (attempt, retryAfter) => waits.push([attempt, retryAfter]) && 0 }))
  const answer = await client.request({ url: '/cases', method: 'POST', data: {}, header: { 'Idempotency-Key': 'k1' }, retry: true })
  expect(answer.id).toBe(9)
  expect(waits).toEqual([[0, 0], [1, 3]])
  expect(wx.calls.request.map((c) => c.header['Idempotency-Key'])).toEqual(['k1', 'k1', 'k1'])
  expect(defaultBackoff(0, 0)).toBe(1000)
  expect(defaultBackoff(2, 0)).toBe(4000)
  expect(defaultBackoff(0, 3)).toBe(3000)
  expect(defaultBackoff(0, 600)).toBe(8000)
})

test('after the last retry the caller learns the backend is away; other errors are not retried', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  wx.respond((o) => (o.url.endsWith('/cases') ? { statusCode: 503, data: { error: { code: 'unavailable', message: '数据库暂时不可用' } } } : null))
  wx.respond((o) => (o.url.endsWith('/bad') ? { statusCode: 422, data: { error: { code: 'invalid', message: '描述太短' } } } : null))
  const client = createClient(wx, cfg)
  const error = await client.request({ url: '/cases', method: 'POST', retry: true, silent: true }).catch((e) => e)
  expect(error.unavailable).toBe(true)
  expect(error.message).toBe('数据库暂时不可用')
  expect(wx.calls.request.filter((c) => c.url.endsWith('/cases'))).toHaveLength(4)
  await client.request({ url: '/bad', retry: true, silent: true }).catch(() => null)
  expect(wx.calls.request.filter((c) => c.url.endsWith('/bad'))).toHaveLength(1)
  // Without retry: one attempt.
  await client.request({ url: '/cases', silent: true }).catch(() => null)
  expect(wx.calls.request.filter((c) => c.url.endsWith('/cases'))).toHaveLength(5)
})

test('uploads send one file a request, report progress, and retry a 503', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  let n = 0
  wx.respond((o) => {
    if (o.method !== 'UPLOAD') return null
    n += 1
    return n === 1 ? { statusCode: 503, data: '{"error":{"code":"unavailable","message":"稍后再试"}}' } : { statusCode: 201, data: JSON.stringify({ id: 'p1', url: '/p/1', thumb_url: '/p/1/t' }) }
  })
  const client = createClient(wx, cfg)
  const progress = []
  const answer = await client.upload({ filePath: 'a.jpg', retry: true, onProgress: (p) => progress.push(p) })
  expect(answer.id).toBe('p1')
  expect(wx.calls.uploadFile.map((c) => [c.url, c.name, c.filePath])).toEqual([
    ['https://county.example/api/v1/photos', 'file', 'a.jpg'],
    ['https://county.example/api/v1/photos', 'file', 'a.jpg'],
  ])
  expect(progress).toContain(50)
  expect(client.absoluteUrl('/p/1')).toBe('https://county.example/p/1')
  expect(client.absoluteUrl('https://cdn.example/p/1')).toBe('https://cdn.example/p/1')
})

test('downloads carry the token and answer the temporary file', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  wx.respond((o) => (o.method === 'DOWNLOAD' ? { statusCode: 200, tempFilePath: 'wxfile://tmp/a.xlsx' } : null))
  const client = createClient(wx, cfg)
  expect(await client.download({ url: '/supervision/stats.xlsx' })).toBe('wxfile://tmp/a.xlsx')
  expect(wx.calls.downloadFile[0]).toEqual(expect.objectContaining({ url: 'https://county.example/api/v1/supervision/stats.xlsx', header: { Authorization: 'Bearer t' } }))
})

test('concurrent calls share one login', async () => {
  const wx = createWx()
  loginResponder(wx)
  wx.respond((o) => (o.url.includes('/categories') || o.url.includes('/communities') ? { statusCode: 200, data: { items: [] } } : null))
  const client = createClient(wx, cfg)
  await Promise.all([client.request({ url: '/categories' }), client.request({ url: '/communities' })])
  expect(wx.calls.login).toBe(1)
})

test('the base URL follows the version: develop, trial, release (HTTPS, accepted outside develop)', async () => {
  for (const version of ['develop', 'trial', 'release']) {
    const wx = createWx({ envVersion: version })
    expect(env.baseUrl(wx)).toBe(config.baseUrls[version])
    wx.storage.token = 't'
    wx.respond(() => ({ statusCode: 200, data: { ok: true } }))
    const client = createClient(wx)
    expect(await client.request({ url: '/labels' })).toEqual({ ok: true })
    expect(wx.calls.request[0].url).toBe(config.baseUrls[version] + '/api/v1/labels')
  }
  expect(env.baseUrl({ getAccountInfoSync: () => ({ miniProgram: { envVersion: 'gray' } }) })).toBe(config.baseUrls.release)
})

test('outside develop, an HTTP backend is refused the way WeChat refuses an unlisted domain', async () => {
  const wx = createWx({ envVersion: 'release' })
  wx.storage.token = 't'
  const client = createClient(wx, { baseUrl: 'http://127.0.0.1:8000', apiPrefix: '/api/v1' })
  await expect(client.request({ url: '/labels', silent: true })).rejects.toThrow('网络不可用')
  expect(wx.calls.refused).toEqual([{ api: 'request', errMsg: 'request:fail url not in domain list' }])
})

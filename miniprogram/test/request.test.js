const { createWx } = require('./wx-mock')
const { createClient } = require('../utils/request')

const cfg = { baseUrl: 'https://county.example', apiPrefix: '/api/v1' }

function loginResponder(wx) {
  wx.respond((o) => (o.url.endsWith('/auth/wechat-login') ? { statusCode: 200, data: { token: 'tok-' + o.data.code, user: { id: 1, role: 'resident' } } } : null))
}

test('logs in with wx.login, keeps the token, and sends it', async () => {
  const wx = createWx()
  loginResponder(wx)
  wx.respond((o) => (o.url.endsWith('/cases/mine') ? { statusCode: 200, data: { items: [], total: 0 } } : null))
  const client = createClient(wx, cfg)
  const answer = await client.request({ url: '/cases/mine' })
  expect(answer.total).toBe(0)
  expect(wx.storage.token).toBe('tok-code-1')
  const call = wx.calls.request.find((c) => c.url === 'https://county.example/api/v1/cases/mine')
  expect(call.header.Authorization).toBe('Bearer tok-code-1')
})

test('a 401 logs in again and repeats the call once', async () => {
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
  const client = createClient(wx, cfg)
  const answer = await client.request({ url: '/cases/mine' })
  expect(answer.items[0].id).toBe(7)
  expect(wx.calls.login).toBe(1)
  expect(wx.calls.request.filter((c) => c.url.endsWith('/cases/mine'))).toHaveLength(2)
  expect(wx.calls.toast).toHaveLength(0)
})

test('a second 401 is not retried forever: one retry, then the message', async () => {
  const wx = createWx()
  loginResponder(wx)
  wx.respond((o) => (o.url.endsWith('/staff/cases') ? { statusCode: 401, data: { error: { code: 'x', message: '请先登录' } } } : null))
  const client = createClient(wx, cfg)
  await expect(client.request({ url: '/staff/cases' })).rejects.toThrow('请先登录')
  expect(wx.calls.request.filter((c) => c.url.endsWith('/staff/cases'))).toHaveLength(2)
  expect(wx.calls.toast[0].title).toBe('请先登录')
})

test("the backend's error message becomes a toast", async () => {
  const wx = createWx()
  wx.storage.token = 't'
  wx.respond((o) => (o.url.endsWith('/cases') ? { statusCode: 429, data: { error: { code: 'daily_limit', message: '每天最多提交 20 件，请明天再试' } } } : null))
  const client = createClient(wx, cfg)
  const error = await client.request({ url: '/cases', method: 'POST', data: {} }).catch((e) => e)
  expect(error.statusCode).toBe(429)
  expect(error.code).toBe('daily_limit')
  expect(wx.calls.toast).toEqual([expect.objectContaining({ title: '每天最多提交 20 件，请明天再试', icon: 'none' })])
})

test('silent requests do not toast; a network failure says to retry', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  wx.respond((o) => (o.url.endsWith('/subscribe-templates') ? { statusCode: 500, data: {} } : null))
  wx.respond((o) => (o.url.endsWith('/categories') ? { fail: { errMsg: 'request:fail' } } : null))
  const client = createClient(wx, cfg)
  await expect(client.request({ url: '/subscribe-templates', silent: true })).rejects.toThrow()
  expect(wx.calls.toast).toHaveLength(0)
  await expect(client.request({ url: '/categories' })).rejects.toThrow('网络不可用')
  expect(wx.calls.toast[0].title).toContain('网络不可用')
})

test('concurrent calls share one login', async () => {
  const wx = createWx()
  loginResponder(wx)
  wx.respond((o) => (o.url.includes('/categories') || o.url.includes('/communities') ? { statusCode: 200, data: { items: [] } } : null))
  const client = createClient(wx, cfg)
  await Promise.all([client.request({ url: '/categories' }), client.request({ url: '/communities' })])
  expect(wx.calls.login).toBe(1)
})

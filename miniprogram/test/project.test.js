const fs = require('fs')
const path = require('path')
const { createWx } = require('./wx-mock')

const root = path.join(__dirname, '..')
const app = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'))

test('every page of app.json has its files, and the tab bar points at pages', () => {
  for (const page of app.pages) {
    for (const ext of ['js', 'json', 'wxml', 'wxss']) {
      expect(fs.existsSync(path.join(root, page + '.' + ext))).toBe(true)
    }
    JSON.parse(fs.readFileSync(path.join(root, page + '.json'), 'utf8'))
  }
  for (const tab of app.tabBar.list) expect(app.pages).toContain(tab.pagePath)
  expect(app.permission['scope.userLocation'].desc).toMatch(/位置/)
})

test('every page script defines a Page without touching the network at load', () => {
  const pages = {}
  global.wx = createWx()
  global.Page = (definition) => {
    pages.current = definition
  }
  global.getApp = () => ({})
  for (const page of app.pages) {
    jest.isolateModules(() => {
      require(path.join(root, page))
    })
    expect(typeof pages.current).toBe('object')
    expect(pages.current.data).toBeDefined()
  }
  expect(global.wx.calls.request).toHaveLength(0)
  delete global.Page
  delete global.wx
})

test('the report page refuses to submit an incomplete form and submits once on a double tap', async () => {
  const wx = createWx()
  global.wx = wx
  let page
  global.Page = (definition) => {
    page = definition
  }
  jest.isolateModules(() => require(path.join(root, 'pages/report/index')))
  const state = Object.assign({}, page, { data: JSON.parse(JSON.stringify(page.data)) })
  state.setData = function (patch) {
    for (const [key, value] of Object.entries(patch)) {
      const match = key.match(/^(\w+)\[(\d+)\]$/)
      if (match) this.data[match[1]][Number(match[2])] = value
      else this.data[key] = value
    }
  }
  wx.storage.token = 't'
  wx.navigateTo = () => {}
  wx.requestSubscribeMessage = ({ success }) => success({ TPL: 'accept' })
  let filed = 0
  wx.respond((o) => (o.url.endsWith('/subscribe-templates') ? { statusCode: 200, data: { case_update: 'TPL' } } : null))
  wx.respond((o) => (o.url.endsWith('/staff/subscriptions') ? { statusCode: 200, data: {} } : null))
  wx.respond((o) => {
    if (!o.url.endsWith('/cases')) return null
    filed += 1
    return { statusCode: 201, data: { id: 9, number: 'YN20260603-0009' } }
  })
  state.key = 'k-1'
  await state.submit()
  expect(state.data.errors).toContain('请选择问题类别')
  expect(filed).toBe(0)
  state.setData({ category: { code: 'dog_unleashed' }, community: { id: 1 }, description: '遛狗不拴绳很危险' })
  await Promise.all([state.submit(), state.submit()])
  expect(filed).toBe(1)
  const call = wx.calls.request.find((c) => c.url.endsWith('/cases'))
  expect(call.header['Idempotency-Key']).toBe('k-1')
  expect(call.data).toEqual(expect.objectContaining({ category: 'dog_unleashed', community_id: 1, photo_ids: [] }))
  delete global.Page
  delete global.wx
})

// The county's words come from GET /labels: loaded at launch, kept with the
// fetch time, refreshed at each launch, shown everywhere; a raw code until then.
const path = require('path')
const simulate = require('miniprogram-simulate')
const { render, flush, createWx, createServer } = require('./harness')
const { LABELS, TEMPLATES } = require('./fake-server')

function launch(wx) {
  global.wx = wx
  let app
  global.App = (definition) => (app = definition)
  jest.isolateModules(() => require('../app'))
  delete global.App
  app.onLaunch()
}

test('launch fetches the labels (no login) and the template ids, and keeps them with the fetch time', async () => {
  const wx = createWx()
  const server = createServer()
  wx.respond((o) => server.handle(o))
  launch(wx)
  await flush()
  expect(wx.storage.labels.labels).toEqual(LABELS)
  expect(wx.storage.labels.fetched_at).toBeGreaterThan(Date.now() - 60000)
  expect(server.calls('GET', /labels$/)[0].user).toBeNull()
  expect(wx.storage.subscribe_templates.templates).toEqual(TEMPLATES)
})

test('a failed refresh keeps yesterday\'s words', async () => {
  const wx = createWx()
  wx.storage.labels = { fetched_at: 1, labels: { statuses: { accepted: '正在办' } } }
  wx.respond(() => ({ fail: { errMsg: 'request:fail' } }))
  launch(wx)
  await flush()
  expect(wx.storage.labels.labels.statuses.accepted).toBe('正在办')
})

test('a county that renames a status sees its word on every page', async () => {
  const server = createServer()
  const c = server.addCase({ status: 'accepted' })
  const wx = createWx()
  wx.respond((o) => server.handle(o))
  wx.storage.labels = { fetched_at: Date.now(), labels: Object.assign({}, LABELS, { statuses: Object.assign({}, LABELS.statuses, { accepted: '正在办理' }) }) }
  const p = render('pages/staff/handle/index', { wx, server, as: 'handler', labels: false, query: { id: String(c.id) } })
  await flush()
  expect(p.text('.badge')).toContain('正在办理')
})

test('the status badge shows the raw code until the labels arrive, then the word', async () => {
  const wx = createWx() // no backend yet: GET /labels does not answer the table
  global.wx = wx
  const id = simulate.load(path.join(__dirname, '../components/status-badge/index'))
  const comp = simulate.render(id, { status: 'accepted', step: 'supervision' })
  comp.attach(document.createElement('parent-wrapper'))
  await flush(3)
  expect(comp.querySelectorAll('.badge').map((b) => b.dom.textContent)).toEqual(['accepted', 'supervision'])
  wx.storage.labels = { fetched_at: Date.now(), labels: LABELS }
  comp.setData({ status: 'resolved', step: '' })
  await flush(3)
  expect(comp.querySelectorAll('.badge').map((b) => b.dom.textContent)).toEqual(['已办结'])
})

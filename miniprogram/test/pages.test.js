// Every page of app.json renders (templates compiled by WeChat's wcc) and
// loads without a refused call or an error, for the role it serves.
const fs = require('fs')
const path = require('path')
const { render, flush, createServer } = require('./harness')

const app = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'app.json'), 'utf8'))
const ROLE = { 'pages/staff': 'handler', 'pages/supervise': 'supervisor', 'pages/console-login': 'supervisor' }

test.each(app.pages)('%s renders and loads', async (page) => {
  const server = createServer()
  const c = server.addCase({ escalation_step: 'overdue' })
  const as = Object.keys(ROLE).find((prefix) => page.startsWith(prefix))
  const p = render(page, { as: as ? ROLE[as] : 'resident', server, query: { id: String(page.includes('community') ? 3 : c.id) } })
  await flush()
  expect(p.text().trim().length).toBeGreaterThan(0)
  expect(p.has('.state__retry')).toBe(false)
  expect(p.wx.calls.refused).toEqual([])
})

test('a community page shows the company\'s ladder step in the county\'s words', async () => {
  const p = render('pages/community/index', { as: 'resident', query: { id: '3' } })
  await flush()
  expect(p.text('.company')).toContain('3星')
  expect(p.text('.ladder')).toBe('降星')
  expect(p.text()).toContain('服务合同')
})

test('a link without a case id says so instead of failing', async () => {
  const p = render('pages/staff/handle/index', { as: 'handler', query: {} })
  await flush()
  expect(p.text()).toContain('链接不完整')
})

// A resident's main flows, through taps: report with photos, location and the
// progress reminder; a backend that restarts; follow the case; rate or reopen.
const { render, flush, createServer } = require('./harness')

async function fillReport(p) {
  await flush()
  p.tap('.category--dog_unleashed')
  p.type('.community-search', '幸福')
  await flush()
  p.tap('.community-option')
  p.type('.description', '小区里有人遛狗不拴绳，吓到孩子')
}

test('report: privacy consent, map point, photos, the reminder asked in the tap, then the case opens', async () => {
  const p = render('pages/report/index', { as: 'resident' })
  await fillReport(p)
  // The map needs consent first: the popup shows, the resident agrees, the map opens.
  p.tap('.choose-location')
  await flush()
  expect(p.text('.privacy')).toContain('在地图上标出问题的位置')
  p.agreePrivacy()
  await flush()
  expect(p.wx.calls.chooseLocation).toHaveLength(1)
  expect(p.data.locationText).toBe('幸福小区3号楼')
  // Photos: chosen from camera or album, uploaded at once with progress.
  p.tap('.photo__add')
  await flush()
  expect(p.wx.calls.chooseMedia[0]).toEqual(expect.objectContaining({ count: 9, mediaType: ['image'], sourceType: ['album', 'camera'] }))
  expect(p.all('.photo__img').length).toBe(2)
  p.tap('.submit')
  await flush()
  expect(p.wx.calls.subscribe).toEqual([['TPL_UPD']])
  expect(p.server.s.quota[1]).toEqual({ TPL_UPD: 1 })
  const filed = p.server.calls('POST', /^\/api\/v1\/cases$/)
  expect(filed).toHaveLength(1)
  expect(filed[0].body).toEqual(expect.objectContaining({ category: 'dog_unleashed', community_id: 3, photo_ids: ['ph1', 'ph2'], lat: 38.28, lng: 106.25, location_text: '幸福小区3号楼' }))
  expect(filed[0].header['Idempotency-Key']).toMatch(/^rep-/)
  expect(p.wx.calls.navigate).toEqual([{ type: 'navigateTo', url: '/pages/case/index?id=1' }])
  expect(p.wx.calls.refused).toEqual([])
  expect(p.data.description).toBe('')
})

test('declining the privacy guide leaves the form usable and says why the map did not open', async () => {
  const p = render('pages/report/index', { as: 'resident' })
  await fillReport(p)
  p.tap('.photo__add')
  await flush()
  expect(p.text('.privacy')).toContain('拍摄或从相册选择现场照片')
  p.tap('#disagree-btn')
  await flush()
  expect(p.wx.calls.chooseMedia).toHaveLength(0)
  expect(p.wx.calls.refused.map((r) => r.errno)).toEqual([104])
  expect(p.wx.calls.toast.map((t) => t.title)).toContain('未同意隐私保护指引，暂时无法使用此功能')
  expect(p.has('.privacy')).toBe(false)
})

test('a half-filled form says what is missing and files nothing', async () => {
  const p = render('pages/report/index', { as: 'resident' })
  await flush()
  p.tap('.submit')
  await flush()
  expect(p.text('.error')).toContain('请选择问题类别')
  expect(p.wx.calls.subscribe).toHaveLength(0)
  expect(p.server.calls('POST', /cases$/)).toHaveLength(0)
})

test('a double tap files one case', async () => {
  const p = render('pages/report/index', { as: 'resident' })
  await fillReport(p)
  p.tap('.submit')
  p.tap('.submit')
  await flush()
  expect(p.server.calls('POST', /^\/api\/v1\/cases$/)).toHaveLength(1)
  expect(p.wx.calls.subscribe).toHaveLength(1)
})

// Backoff waits are recorded and shortened: the test checks what was asked for.
function compressedTime() {
  const real = global.setTimeout
  const waits = []
  global.setTimeout = (fn, ms, ...args) => {
    if (ms > 0) waits.push(ms)
    return real(fn, 0, ...args)
  }
  return { waits, restore: () => (global.setTimeout = real) }
}

test('a restarting backend: retried with the same key; then kept on the phone and sent once later', async () => {
  const server = createServer()
  server.s.unavailable.cases = 10
  server.s.unavailable.photos = 1
  const p = render('pages/report/index', { as: 'resident', server, wxSettings: { privacyAgreed: true } })
  await fillReport(p)
  const time = compressedTime()
  p.tap('.photo__add')
  await flush()
  p.tap('.submit')
  await flush(60)
  time.restore()
  // The first photo upload met a 503 and was sent again; the filing was tried
  // four times, each after the server's Retry-After (1 s), with one key.
  expect(time.waits).toEqual([1000, 1000, 1000, 1000])
  expect(p.wx.calls.uploadFile).toHaveLength(3)
  const tries = server.calls('POST', /^\/api\/v1\/cases$/)
  expect(tries.length).toBe(4)
  expect(new Set(tries.map((t) => t.header['Idempotency-Key'])).size).toBe(1)
  expect(p.wx.calls.modal[0].content).toContain('已保存在手机上')
  const draft = p.wx.storage.report_draft
  expect(draft.key).toBe(tries[0].header['Idempotency-Key'])
  expect(draft.form.photos.map((ph) => [ph.id, ph.status])).toEqual([['ph1', 'done'], ['ph2', 'done']])
  // Later, a fresh launch: the draft is back; the backend too.
  server.s.unavailable.cases = 0
  const again = render('pages/report/index', { wx: p.wx, server })
  await flush()
  expect(again.text('.notice--draft')).toContain('上次没有发出的报事已恢复')
  expect(again.data.description).toBe('小区里有人遛狗不拴绳，吓到孩子')
  again.tap('.submit')
  await flush()
  const all = server.calls('POST', /^\/api\/v1\/cases$/)
  expect(all[all.length - 1].header['Idempotency-Key']).toBe(draft.key)
  expect(all[all.length - 1].body.photo_ids).toEqual(['ph1', 'ph2'])
  expect(p.wx.calls.uploadFile).toHaveLength(3)
  expect(Object.keys(server.s.cases)).toHaveLength(1)
  expect(p.wx.storage.report_draft).toBeUndefined()
}, 20000)

test('a draft whose first sending did arrive is not filed twice under a changed text', async () => {
  const server = createServer()
  const p = render('pages/report/index', { as: 'resident', server })
  await fillReport(p)
  p.tap('.submit')
  await flush()
  const key = server.calls('POST', /^\/api\/v1\/cases$/)[0].header['Idempotency-Key']
  // The answer was lost on the way back: the phone kept the draft and its key.
  p.wx.storage.report_draft = { key, saved_at: Date.now(), form: { category: { code: 'dog_unleashed' }, community: { id: 3, name: '幸福小区' }, description: '改过的描述：遛狗不拴绳', photos: [] } }
  const again = render('pages/report/index', { wx: p.wx, server })
  await flush()
  again.tap('.submit')
  await flush()
  expect(Object.keys(server.s.cases)).toHaveLength(1)
  expect(again.wx.calls.modal.pop().content).toContain('已经提交成功')
  expect(again.wx.storage.report_draft).toBeUndefined()
})

test('follow: my cases list opens the case with photos, map and timeline', async () => {
  const server = createServer()
  const c = server.addCase({ photos: [server.photo('a1'), server.photo('a2')] })
  const mine = render('pages/mine/index', { as: 'resident', server })
  await flush()
  expect(mine.text('.case-row')).toContain('待签收')
  expect(mine.text('.case-row')).toContain('签收剩余')
  mine.tap('.case-row')
  expect(mine.wx.calls.navigate[0].url).toBe('/pages/case/index?id=' + c.id)
  const page = render('pages/case/index', { wx: mine.wx, server, query: { id: String(c.id) } })
  await flush()
  page.tap('.case__photos .photo', 1)
  expect(page.wx.calls.previewImage[0]).toEqual(expect.objectContaining({ current: 'http://127.0.0.1:8000/api/v1/photos/a2?sig=s' }))
  expect(page.wx.calls.previewImage[0].urls).toHaveLength(2)
  page.tap('.case__location')
  expect(page.wx.calls.openLocation[0]).toEqual(expect.objectContaining({ latitude: 38.28, longitude: 106.25 }))
  expect(page.text('.timeline')).toContain('提交')
  expect(page.has('.action')).toBe(false)
  expect(page.wx.calls.refused).toEqual([])
})

test('an empty list says so and offers to report', async () => {
  const p = render('pages/mine/index', { as: 'resident' })
  await flush()
  expect(p.text()).toContain('您还没有反映过问题')
  p.tap('.go-report')
  expect(p.wx.calls.navigate).toEqual([{ type: 'switchTab', url: '/pages/report/index' }])
  await p.instance.onPullDownRefresh()
  expect(p.wx.calls.stopPullDownRefresh).toBe(1)
})

test('rate a resolved case with stars', async () => {
  const server = createServer()
  const c = server.addCase({ status: 'resolved' })
  const p = render('pages/case/index', { as: 'resident', server, query: { id: String(c.id) } })
  await flush()
  expect(p.all('.action').map((b) => b.$$.textContent.trim())).toEqual(['评价', '重新办理'])
  p.tap('.action--rate')
  p.tap('.star--4')
  p.type('.field--comment', '处理得很及时')
  p.tap('.action-confirm')
  await flush()
  expect(server.calls('POST', /rating$/)[0].body).toEqual({ score: 4, comment: '处理得很及时' })
  expect(p.wx.calls.subscribe).toHaveLength(0)
  expect(p.has('.action')).toBe(false)
})

test('reopen asks for the progress reminder inside the tap, with a reason', async () => {
  const server = createServer()
  const c = server.addCase({ status: 'resolved' })
  const p = render('pages/case/index', { as: 'resident', server, query: { id: String(c.id) } })
  await flush()
  p.tap('.action--reopen')
  p.tap('.action-confirm')
  expect(p.text('.error')).toContain('原因至少 2 个字')
  expect(p.wx.calls.subscribe).toHaveLength(0)
  p.type('.field--reason', '狗主人还是不拴绳')
  p.tap('.action-confirm')
  expect(p.wx.calls.subscribe).toEqual([['TPL_UPD']])
  await flush()
  expect(server.calls('POST', /reopen$/)[0].body).toEqual({ reason: '狗主人还是不拴绳' })
  expect(server.s.cases[c.id].status).toBe('reopened')
  expect(p.wx.calls.refused).toEqual([])
})

test('a case that is not mine says so plainly', async () => {
  const server = createServer()
  const c = server.addCase({ reporter: 99 })
  const p = render('pages/case/index', { as: 'resident', server, query: { id: String(c.id) } })
  await flush()
  expect(p.text()).toContain('找不到该工单，或您无权查看')
  expect(p.has('.state__retry')).toBe(true)
})

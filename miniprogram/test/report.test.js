// The pure rules: the report form, the handling steps, the console code.
const { groupCategories, validate, caseBody } = require('../utils/report')
const steps = require('../utils/actions')
const { parseLoginCode, displayCode } = require('../utils/console-login')
const { newKey } = require('../utils/idempotency')
const { remaining, formatTime, parseTime } = require('../utils/status')

const CATEGORIES = [
  { code: 'owner_data_leaked', name: '泄露业主信息', group: '治乱' },
  { code: 'dog_unleashed', name: '遛狗不拴绳', group: '治脏' },
  { code: 'flying_wire_charging', name: '飞线充电', group: '治脏', urgent: true },
]

test('categories are grouped 治脏 first, then 治乱, order kept inside a group', () => {
  const groups = groupCategories(CATEGORIES)
  expect(groups.map((g) => g.group)).toEqual(['治脏', '治乱'])
  expect(groups[0].items.map((c) => c.code)).toEqual(['dog_unleashed', 'flying_wire_charging'])
  expect(groups[0].title).toContain('治脏')
})

test('report validation names every problem a resident can fix; no photo is ever required', () => {
  expect(validate({})).toEqual(['请选择问题类别', '请选择小区', '问题描述至少 5 个字'])
  const ok = { category: 'dog_unleashed', communityId: 1, description: '遛狗不拴绳很危险', photos: [] }
  expect(validate(ok)).toEqual([])
  expect(validate({ ...ok, description: '太短' })).toEqual(['问题描述至少 5 个字'])
  expect(validate({ ...ok, description: '长'.repeat(1001) })).toEqual(['问题描述最多 1000 个字'])
  expect(validate({ ...ok, locationText: '楼'.repeat(201) })).toEqual(['位置描述最多 200 个字'])
  expect(validate({ ...ok, photos: new Array(10).fill({ path: 'x' }) })).toEqual(['最多上传 9 张照片'])
  expect(validate({ ...ok, photos: undefined })).toEqual([])
})

test('the case body carries the uploaded ids and a map point only when both coordinates exist', () => {
  const form = { category: 'dog_unleashed', communityId: 3, description: ' 遛狗不拴绳 ', locationText: ' 3号楼 ', lat: 38.2 }
  expect(caseBody(form, ['a', 'b'])).toEqual({ category: 'dog_unleashed', community_id: 3, description: '遛狗不拴绳', location_text: '3号楼', photo_ids: ['a', 'b'], anonymous: false })
  expect(caseBody({ ...form, lng: 106.2 }, []).lng).toBe(106.2)
})

test('each handling step goes to its own endpoint', () => {
  expect(steps.endpoint('accept', 7)).toBe('/staff/cases/7/accept')
  expect(steps.endpoint('refer', 7)).toBe('/staff/cases/7/refer')
  expect(steps.endpoint('dispatch', 7)).toBe('/supervision/cases/7/dispatch')
  expect(steps.endpoint('merge', 7)).toBe('/supervision/cases/7/merge')
  expect(steps.endpoint('rate', 7)).toBe('/cases/7/rating')
  expect(steps.endpoint('reopen', 7)).toBe('/cases/7/reopen')
  for (const action of Object.keys(steps.FIELDS)) expect(steps.EVENT_KIND[action]).toBeTruthy()
})

test('step checks say what to fix; bodies match the contract', () => {
  const ctx = { clause: false, photoCount: 0, caseId: 5 }
  expect(steps.validate('progress', { note: ' ' }, ctx)).toBe('请填写办理说明')
  expect(steps.validate('resolve', { note: '已处理' }, ctx)).toBe('办结需要至少一张现场照片')
  expect(steps.validate('resolve', { note: '已处理' }, { ...ctx, photoCount: 1, clause: true })).toContain('九不准')
  expect(steps.validate('extension', { reason: '等待开会' }, ctx)).toBe('请选择延期到哪一天')
  expect(steps.validate('return', { reason: '不' }, ctx)).toBe('原因至少 2 个字')
  expect(steps.validate('merge', { into: '5' }, ctx)).toBe('不能合并到本工单自己')
  expect(steps.validate('merge', { into: 'abc' }, ctx)).toContain('ID')
  expect(steps.validate('rate', { score: 0 }, ctx)).toBe('请选择 1 到 5 星')
  expect(steps.validate('accept', {}, ctx)).toBe('')
  expect(steps.body('resolve', { note: ' 好 ', violation: 'denied' }, ['p'], { clause: true })).toEqual({ note: '好', photo_ids: ['p'], violation: 'denied' })
  expect(steps.body('resolve', { note: '好', violation: 'denied' }, ['p'], { clause: false })).toEqual({ note: '好', photo_ids: ['p'] })
  expect(steps.body('merge', { into: '12' }, [], {})).toEqual({ into: 12 })
  expect(steps.body('rate', { score: 5, comment: ' ' }, [], {})).toEqual({ score: 5 })
  expect(steps.body('accept', {}, [], {})).toEqual({})
})

test('the console login code is read from the QR link or typed, in any case, with a dash', () => {
  expect(parseLoginCode('https://xiaoqu.example.gov.cn/console/l/AbCd1234')).toBe('ABCD1234')
  expect(parseLoginCode('https://x.example/console/l/ABCD-1234/?from=qr')).toBe('ABCD1234')
  expect(parseLoginCode(' abcd-1234 ')).toBe('ABCD1234')
  expect(parseLoginCode('abcd123')).toBeNull()
  expect(parseLoginCode('https://x.example/other/ABCD1234')).toBeNull()
  expect(parseLoginCode('')).toBeNull()
  expect(displayCode('ABCD1234')).toBe('ABCD-1234')
})

test('idempotency keys differ; remaining time reads in days, hours or minutes', () => {
  expect(newKey()).not.toBe(newKey())
  const now = new Date('2026-06-03T10:00:00+08:00').getTime()
  expect(remaining('2026-06-03T12:30:00+08:00', now)).toBe('剩余2小时')
  expect(remaining('2026-06-01T10:00:00+08:00', now)).toBe('已超期2天')
  expect(remaining('2026-06-03T10:20:00+08:00', now)).toBe('剩余20分钟')
})

test('server times with microseconds are read as iOS can (milliseconds at most)', () => {
  expect(parseTime('2026-06-03T10:00:00.123456+08:00').getTime()).toBe(new Date('2026-06-03T10:00:00.123+08:00').getTime())
  expect(formatTime('2026-06-03T10:05:00.999999+08:00')).toMatch(/^\d+月\d+日 \d\d:\d\d$/)
})

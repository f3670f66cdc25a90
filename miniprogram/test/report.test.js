const { createWx } = require('./wx-mock')
const { createClient } = require('../utils/request')
const { groupCategories, validate, uploadAll, caseBody, subscribeIds } = require('../utils/report')
const { newKey } = require('../utils/idempotency')

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

test('validation names every problem a resident can fix', () => {
  expect(validate({})).toEqual(['请选择问题类别', '请选择小区', '问题描述至少 5 个字'])
  const ok = { category: 'dog_unleashed', communityId: 1, description: '遛狗不拴绳很危险', photos: [] }
  expect(validate(ok)).toEqual([])
  expect(validate({ ...ok, description: '太短' })).toEqual(['问题描述至少 5 个字'])
  expect(validate({ ...ok, description: '长'.repeat(1001) })).toEqual(['问题描述最多 1000 个字'])
  expect(validate({ ...ok, locationText: '楼'.repeat(201) })).toEqual(['位置描述最多 200 个字'])
  expect(validate({ ...ok, photos: new Array(10).fill({ path: 'x' }) })).toEqual(['最多上传 9 张照片'])
  // No photo is ever required.
  expect(validate({ ...ok, photos: undefined })).toEqual([])
})

test('photos upload one by one, in order, with progress; a failed one is retried alone', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  let attempt = 0
  wx.onUpload((o) => {
    attempt += 1
    if (o.filePath === 'b.jpg' && attempt === 2) return { statusCode: 500, data: '{"error":{"message":"上传失败"}}' }
    return { statusCode: 201, data: JSON.stringify({ id: 'id-' + o.filePath }) }
  })
  const client = createClient(wx, { baseUrl: 'https://x', apiPrefix: '/api/v1' })
  const photos = [{ path: 'a.jpg' }, { path: 'b.jpg' }, { path: 'c.jpg' }]
  const progress = []
  const first = await uploadAll(photos, client.upload, (i, p) => progress.push([i, p.status, p.progress]))
  expect(first).toBe(false)
  expect(wx.calls.uploadFile.map((c) => c.filePath)).toEqual(['a.jpg', 'b.jpg', 'c.jpg'])
  expect(wx.calls.uploadFile.every((c) => c.name === 'file')).toBe(true)
  expect(photos.map((p) => p.status)).toEqual(['done', 'failed', 'done'])
  expect(progress).toContainEqual([0, 'uploading', 50])
  const second = await uploadAll(photos, client.upload)
  expect(second).toBe(true)
  expect(wx.calls.uploadFile.map((c) => c.filePath)).toEqual(['a.jpg', 'b.jpg', 'c.jpg', 'b.jpg'])
  expect(caseBody({ category: 'dog_unleashed', communityId: 3, description: ' 遛狗不拴绳 ', photos }).photo_ids).toEqual([
    'id-a.jpg',
    'id-b.jpg',
    'id-c.jpg',
  ])
})

test('a double tap reuses the Idempotency-Key, so the backend files one case', async () => {
  const wx = createWx()
  wx.storage.token = 't'
  const seen = []
  wx.respond((o) => {
    if (!o.url.endsWith('/cases')) return null
    seen.push(o.header['Idempotency-Key'])
    return { statusCode: seen.length === 1 ? 201 : 200, data: { id: 5, number: 'YN20260603-0001' } }
  })
  const client = createClient(wx, { baseUrl: 'https://x', apiPrefix: '/api/v1' })
  const key = newKey()
  const body = caseBody({ category: 'dog_unleashed', communityId: 1, description: '遛狗不拴绳', lat: 38.2, lng: 106.2 })
  expect(body.lat).toBe(38.2)
  const [a, b] = await Promise.all([
    client.request({ url: '/cases', method: 'POST', data: body, header: { 'Idempotency-Key': key } }),
    client.request({ url: '/cases', method: 'POST', data: body, header: { 'Idempotency-Key': key } }),
  ])
  expect(seen).toEqual([key, key])
  expect(a.id).toBe(b.id)
  expect(newKey()).not.toBe(key)
})

test('at most three templates are asked for at once', () => {
  const templates = { new_case: 'A', escalation: 'B', case_update: 'C', extra: 'D' }
  expect(subscribeIds(templates, ['new_case', 'escalation', 'case_update', 'extra'])).toEqual(['A', 'B', 'C'])
  expect(subscribeIds(templates, ['missing'])).toEqual([])
})

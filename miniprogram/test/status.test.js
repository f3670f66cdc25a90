const path = require('path')
const simulate = require('miniprogram-simulate')
const { sortQueue, badge, stepBadge, remaining, STATUS } = require('../utils/status')

const NOW = new Date('2026-06-03T10:00:00+08:00').getTime()

test('the queue puts overdue first, then the soonest deadline, ties oldest first', () => {
  const items = [
    { id: 1, due_at: '2026-06-05T10:00:00+08:00', created_at: '2026-06-01T09:00:00+08:00' },
    { id: 2, due_at: '2026-06-02T10:00:00+08:00', created_at: '2026-06-01T09:00:00+08:00' },
    { id: 3, due_at: '2026-06-04T10:00:00+08:00', created_at: '2026-06-01T10:00:00+08:00' },
    { id: 4, due_at: '2026-06-04T10:00:00+08:00', created_at: '2026-06-01T08:00:00+08:00' },
    { id: 5, due_at: '2026-06-01T10:00:00+08:00', created_at: '2026-05-30T08:00:00+08:00' },
    { id: 6, due_at: null, created_at: '2026-05-01T08:00:00+08:00' },
  ]
  expect(sortQueue(items, NOW).map((i) => i.id)).toEqual([5, 2, 4, 3, 1, 6])
})

test('every status has a Chinese badge and ladder steps have their colours', () => {
  for (const status of ['submitted', 'dispatched', 'accepted', 'resolved', 'closed', 'returned', 'reopened', 'rejected', 'merged']) {
    expect(STATUS[status].label).toMatch(/[\u4e00-\u9fff]/)
  }
  expect(badge('resolved')).toEqual({ label: '已办结', color: '#07C160' })
  expect(stepBadge('leader').label).toBe('挂牌督办')
  expect(stepBadge(null)).toBeNull()
  expect(remaining('2026-06-03T12:30:00+08:00', NOW)).toBe('剩余2小时')
  expect(remaining('2026-06-01T10:00:00+08:00', NOW)).toBe('已超期2天')
})

test('the status badge component renders the label and the ladder step', async () => {
  const id = simulate.load(path.join(__dirname, '../components/status-badge/index'))
  const comp = simulate.render(id, { status: 'accepted', step: 'supervision' })
  const parent = document.createElement('parent-wrapper')
  comp.attach(parent)
  await simulate.sleep(0)
  const badges = comp.querySelectorAll('.badge')
  expect(badges.map((b) => b.dom.textContent)).toEqual(['办理中', '督办'])
  comp.setData({ step: '' })
  comp.setData({})
  await simulate.sleep(0)
  expect(comp.querySelectorAll('.badge').map((b) => b.dom.textContent)).toEqual(['办理中'])
})

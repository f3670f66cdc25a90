const { request } = require('../../../utils/request')
const { sortQueue, isOverdue, stepBadge, remaining } = require('../../../utils/status')

const FILTERS = [
  { label: '全部待办', query: '' },
  { label: '已超期', query: 'overdue=true' },
  { label: '待签收', query: 'status=dispatched' },
  { label: '办理中', query: 'status=accepted' },
  { label: '已退回', query: 'status=returned' },
]

Page({
  data: { items: [], filters: FILTERS, filter: 0, total: 0 },

  onShow() {
    this.load()
  },

  onPullDownRefresh() {
    this.load().then(() => wx.stopPullDownRefresh())
  },

  pickFilter(e) {
    this.setData({ filter: Number(e.detail.value) })
    this.load()
  },

  load() {
    const q = FILTERS[this.data.filter].query
    return request({ url: '/staff/cases?per_page=100' + (q ? '&' + q : '') }).then((res) => {
      const now = Date.now()
      const items = sortQueue(res.items, now).map((c) => {
        const step = stepBadge(c.escalation_step)
        return Object.assign({}, c, {
          late: isOverdue(c, now),
          dueText: remaining(c.due_at, now),
          stripe: step ? step.color : isOverdue(c, now) ? '#FA9D3B' : '#07C160',
        })
      })
      this.setData({ items, total: res.total })
    })
  },

  open(e) {
    wx.navigateTo({ url: '/pages/staff/handle/index?id=' + e.currentTarget.dataset.id })
  },
})

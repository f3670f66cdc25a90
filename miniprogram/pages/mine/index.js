const { request } = require('../../utils/request')
const { formatTime, remaining } = require('../../utils/status')

Page({
  data: { items: [], page: 1, total: 0, loading: false },

  onShow() {
    this.load(1)
  },

  onPullDownRefresh() {
    this.load(1).then(() => wx.stopPullDownRefresh())
  },

  onReachBottom() {
    if (this.data.items.length < this.data.total) this.load(this.data.page + 1)
  },

  load(page) {
    this.setData({ loading: true })
    return request({ url: '/cases/mine?page=' + page })
      .then((res) => {
        const now = Date.now()
        const items = res.items.map((c) => Object.assign({}, c, {
          createdText: formatTime(c.created_at),
          dueText: c.status === 'dispatched' ? '签收' + remaining(c.accept_due_at, now) : ['accepted', 'reopened'].indexOf(c.status) >= 0 ? '办结' + remaining(c.resolve_due_at, now) : '',
        }))
        this.setData({ items: page === 1 ? items : this.data.items.concat(items), page, total: res.total })
      })
      .finally(() => this.setData({ loading: false }))
  },

  open(e) {
    wx.navigateTo({ url: '/pages/case/index?id=' + e.currentTarget.dataset.id })
  },
})

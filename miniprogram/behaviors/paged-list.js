// A list page: paging, pull to refresh, loading / error / empty states.
// The page defines listUrl(page) and shapeItem(item).
const { request } = require('../utils/request')

module.exports = Behavior({
  data: { items: [], page: 1, total: 0, loading: false, loaded: false, error: '' },
  methods: {
    loadPage(page) {
      this.setData({ loading: true, error: '' })
      return request({ url: this.listUrl(page), silent: true })
        .then(
          (res) => {
            const items = res.items.map((item) => this.shapeItem(item))
            this.setData({ items: page === 1 ? items : this.data.items.concat(items), page, total: res.total, loaded: true })
          },
          (error) => this.setData({ error: error.message }),
        )
        .then(() => this.setData({ loading: false }))
    },
    reload() {
      return this.loadPage(1)
    },
    onPullDownRefresh() {
      return this.reload().then(() => wx.stopPullDownRefresh())
    },
    onReachBottom() {
      if (!this.data.loading && this.data.items.length < this.data.total) return this.loadPage(this.data.page + 1)
      return null
    },
  },
})

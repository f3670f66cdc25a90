const { request } = require('../../../utils/request')

function thisMonth(now) {
  const d = now || new Date()
  const m = d.getMonth() + 1
  return d.getFullYear() + '-' + (m < 10 ? '0' + m : m)
}

Page({
  data: { period: thisMonth(), tab: 'departments', data: null },

  onShow() {
    this.load()
  },

  pickMonth(e) {
    this.setData({ period: e.detail.value })
    this.load()
  },

  pickTab(e) {
    this.setData({ tab: e.currentTarget.dataset.tab })
  },

  load() {
    return request({ url: '/supervision/rankings?period=' + this.data.period }).then((data) => this.setData({ data }))
  },
})

module.exports = { thisMonth }

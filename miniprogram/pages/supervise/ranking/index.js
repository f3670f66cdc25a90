// 部门排名: departments and townships ranked for a month; the rankings and
// the statistics export to Excel on the phone.
const { request } = require('../../../utils/request')
const { openExport } = require('../../../utils/exports')

function thisMonth(now) {
  const d = now || new Date()
  const m = d.getMonth() + 1
  return d.getFullYear() + '-' + (m < 10 ? '0' + m : m)
}

function pct(v) {
  return v === null || v === undefined ? '—' : v + '%'
}

function shape(row) {
  return Object.assign({}, row, {
    scoreText: row.score === null || row.score === undefined ? '—' : row.score,
    acceptText: pct(row.accepted_on_time_pct),
    resolveText: pct(row.resolved_on_time_pct),
    satisfactionText: row.satisfaction === null || row.satisfaction === undefined ? '—' : row.satisfaction,
  })
}

Component({
  data: { period: thisMonth(), tab: 'departments', rows: [], data: null, loading: true, error: '' },
  methods: {
    onShow() {
      return this.load()
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh())
    },
    pickMonth(e) {
      this.setData({ period: e.detail.value })
      return this.load()
    },
    pickTab(e) {
      const tab = e.currentTarget.dataset.tab
      this.setData({ tab, rows: this.data.data ? this.data.data[tab].map(shape) : [] })
    },
    load() {
      this.setData({ loading: !this.data.data, error: '' })
      return request({ url: '/supervision/rankings?period=' + this.data.period, silent: true })
        .then(
          (data) => this.setData({ data, rows: data[this.data.tab].map(shape) }),
          (error) => this.setData({ error: error.message }),
        )
        .then(() => this.setData({ loading: false }))
    },
    exportRankings() {
      return openExport('/supervision/rankings.xlsx?period=' + this.data.period)
    },
    exportStats() {
      return openExport('/supervision/stats.xlsx')
    },
  },
})

module.exports = { thisMonth }

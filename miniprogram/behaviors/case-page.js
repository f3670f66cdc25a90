// A page showing one case (?id=N, also the page a push opens): loads it,
// refreshes on pull-down and after a step, says plainly when it cannot.
const { request } = require('../utils/request')

module.exports = Behavior({
  data: { c: null, loading: true, error: '' },
  methods: {
    onLoad(query) {
      this.caseId = query && query.id
      if (!/^\d+$/.test(String(this.caseId || ''))) {
        this.setData({ loading: false, error: '链接不完整，找不到这件工单' })
        return null
      }
      return this.loadCase()
    },
    loadCase() {
      this.setData({ loading: !this.data.c, error: '' })
      return request({ url: '/cases/' + this.caseId, silent: true })
        .then(
          (c) => this.setData({ c }),
          (error) => this.setData({ error: error.message }),
        )
        .then(() => this.setData({ loading: false }))
    },
    onPullDownRefresh() {
      return this.loadCase().then(() => wx.stopPullDownRefresh())
    },
    onStepDone() {
      return this.loadCase()
    },
  },
})

// 超期督办: overdue cases, most overdue first (the server's order), filtered
// by ladder step, department or township; a row opens the case; the list
// exports to Excel on the phone.
const pagedList = require('../../../behaviors/paged-list')
const labels = require('../../../utils/labels')
const subscribe = require('../../../utils/subscribe')
const { request } = require('../../../utils/request')
const { openExport } = require('../../../utils/exports')
const { stepColor } = require('../../../utils/status')

const STEPS = ['', 'overdue', 'supervision', 'leader']

Component({
  behaviors: [pagedList],
  data: { purposes: subscribe.PURPOSES.supervisor, steps: [], step: 0, departments: [{ name: '全部部门' }], department: 0, townships: [{ name: '全部乡镇（街道）' }], township: 0 },
  methods: {
    onLoad() {
      subscribe.prefetch()
      request({ url: '/departments', silent: true }).then((res) => {
        this.setData({
          departments: [{ name: '全部部门' }].concat(res.items.filter((d) => d.kind !== 'township')),
          townships: [{ name: '全部乡镇（街道）' }].concat(res.items.filter((d) => d.kind === 'township')),
        })
      }, () => null)
    },
    onShow() {
      return labels.ready().then(() => {
        this.setData({ steps: STEPS.map((s) => ({ name: s ? labels.step(s) : '全部级别' })) })
        return this.reload()
      })
    },
    pick(e) {
      this.setData({ [e.currentTarget.dataset.name]: Number(e.detail.value) })
      return this.reload()
    },
    filterQuery() {
      const d = this.data
      const params = []
      if (d.step) params.push('step=' + STEPS[d.step])
      if (d.department) params.push('department=' + encodeURIComponent(d.departments[d.department].name))
      if (d.township) params.push('township=' + encodeURIComponent(d.townships[d.township].name))
      return params.join('&')
    },
    listUrl(page) {
      const q = this.filterQuery()
      return '/supervision/overdue?page=' + page + (q ? '&' + q : '')
    },
    shapeItem(i) {
      return Object.assign({}, i, { stripe: stepColor(i.escalation_step) || '#FA9D3B', deadlineName: labels.deadline(i.deadline) })
    },
    open(e) {
      wx.navigateTo({ url: '/pages/supervise/case/index?id=' + e.currentTarget.dataset.id })
    },
    openExtensions() {
      wx.navigateTo({ url: '/pages/supervise/extensions/index' })
    },
    exportList() {
      const q = this.filterQuery()
      return openExport('/supervision/overdue.xlsx' + (q ? '?' + q : ''))
    },
  },
})

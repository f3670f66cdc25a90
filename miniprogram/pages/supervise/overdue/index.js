const { request } = require('../../../utils/request')
const { stepBadge } = require('../../../utils/status')

const STEPS = [
  { label: '全部级别', value: '' },
  { label: '超期', value: 'overdue' },
  { label: '督办', value: 'supervision' },
  { label: '挂牌督办', value: 'leader' },
]

Page({
  data: { items: [], total: 0, steps: STEPS, step: 0, departments: ['全部部门'], department: 0, townships: ['全部乡镇'], township: 0 },

  onShow() {
    this.load()
  },

  pick(e) {
    this.setData({ [e.currentTarget.dataset.name]: Number(e.detail.value) })
    this.load()
  },

  load() {
    const params = []
    if (this.data.step) params.push('step=' + STEPS[this.data.step].value)
    if (this.data.department) params.push('department=' + encodeURIComponent(this.data.departments[this.data.department]))
    if (this.data.township) params.push('township=' + encodeURIComponent(this.data.townships[this.data.township]))
    return request({ url: '/supervision/overdue?per_page=100' + (params.length ? '&' + params.join('&') : '') }).then((res) => {
      const departments = ['全部部门'].concat([...new Set(res.items.map((i) => i.department))].filter((d) => d && this.data.departments.indexOf(d) < 0))
      const townships = ['全部乡镇'].concat([...new Set(res.items.map((i) => i.township))].filter((t) => t && this.data.townships.indexOf(t) < 0))
      this.setData({
        items: res.items.map((i) => Object.assign({}, i, { stripe: (stepBadge(i.escalation_step) || { color: '#FA9D3B' }).color })),
        total: res.total,
        departments: this.data.department ? this.data.departments : departments,
        townships: this.data.township ? this.data.townships : townships,
      })
    })
  },
})

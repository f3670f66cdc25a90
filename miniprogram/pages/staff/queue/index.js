// 部门待办: the department's queue in the server's order (soonest deadline
// first, ties oldest first), with the reminders left and a top-up button.
const pagedList = require('../../../behaviors/paged-list')
const labels = require('../../../utils/labels')
const subscribe = require('../../../utils/subscribe')
const { remaining, stepColor } = require('../../../utils/status')

const FILTERS = [
  { name: '全部待办', query: '' },
  { name: '已超期', query: 'overdue=true' },
  { status: 'dispatched', query: 'status=dispatched' },
  { status: 'accepted', query: 'status=accepted' },
  { status: 'reopened', query: 'status=reopened' },
]

Component({
  behaviors: [pagedList],
  data: { filters: [], filter: 0, purposes: subscribe.PURPOSES.staff },
  methods: {
    onLoad() {
      subscribe.prefetch()
    },
    onShow() {
      return labels.ready().then(() => {
        this.setData({ filters: FILTERS.map((f) => ({ name: f.name || labels.status(f.status) })) })
        return this.reload()
      })
    },
    pickFilter(e) {
      this.setData({ filter: Number(e.detail.value) })
      return this.reload()
    },
    listUrl(page) {
      const q = FILTERS[this.data.filter].query
      return '/staff/cases?page=' + page + (q ? '&' + q : '')
    },
    shapeItem(c) {
      return Object.assign({}, c, {
        dueText: remaining(c.due_at, Date.now()),
        stripe: stepColor(c.escalation_step) || (c.overdue ? '#FA9D3B' : '#07C160'),
      })
    },
    open(e) {
      wx.navigateTo({ url: '/pages/staff/handle/index?id=' + e.currentTarget.dataset.id })
    },
  },
})

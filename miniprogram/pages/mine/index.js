// 我的工单: the resident's own cases, newest first, with the running clock.
const pagedList = require('../../behaviors/paged-list')
const labels = require('../../utils/labels')
const { formatTime, remaining } = require('../../utils/status')

function dueText(c, now) {
  if (c.status === 'dispatched') return labels.deadline('accept') + remaining(c.accept_due_at, now)
  if (c.status === 'accepted' || c.status === 'reopened') return labels.deadline('resolve') + remaining(c.resolve_due_at, now)
  return ''
}

Component({
  behaviors: [pagedList],
  methods: {
    onShow() {
      return labels.ready().then(() => this.reload())
    },
    listUrl(page) {
      return '/cases/mine?page=' + page
    },
    shapeItem(c) {
      return Object.assign({}, c, { createdText: formatTime(c.created_at), dueText: dueText(c, Date.now()) })
    },
    open(e) {
      wx.navigateTo({ url: '/pages/case/index?id=' + e.currentTarget.dataset.id })
    },
    goReport() {
      wx.switchTab({ url: '/pages/report/index' })
    },
  },
})

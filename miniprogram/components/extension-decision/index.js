// A pending extension request and the supervisor's answer: approve, or deny
// with a reason.
const { request } = require('../../utils/request')
const limits = require('../../utils/limits')
const { formatTime } = require('../../utils/status')

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    extension: { type: Object, value: null },
    showCase: { type: Boolean, value: false },
  },
  data: { until: '', denying: false, reason: '', busy: false, error: '' },
  observers: {
    extension: function (ext) {
      if (ext) this.setData({ until: formatTime(ext.until), denying: false, reason: '', error: '' })
    },
  },
  methods: {
    openCase() {
      wx.navigateTo({ url: '/pages/supervise/case/index?id=' + this.data.extension.case.id })
    },
    approve() {
      return this.decide('approve', {})
    },
    startDeny() {
      this.setData({ denying: true, error: '' })
    },
    cancelDeny() {
      this.setData({ denying: false, reason: '', error: '' })
    },
    onReason(e) {
      this.setData({ reason: e.detail.value })
    },
    deny() {
      const reason = this.data.reason.trim()
      if (reason.length < limits.reason.min) return this.setData({ error: '请说明不批准的原因（至少 ' + limits.reason.min + ' 个字）' })
      return this.decide('deny', { reason })
    },
    decide(verdict, data) {
      if (this.data.busy) return null
      this.setData({ busy: true, error: '' })
      const url = '/supervision/extensions/' + this.data.extension.id + '/' + verdict
      return request({ url, method: 'POST', data })
        .then((answer) => {
          wx.showToast({ title: verdict === 'approve' ? '已批准延期' : '已不予延期', icon: 'success' })
          this.triggerEvent('done', { verdict, extension: answer })
        })
        .catch((error) => this.setData({ error: error.message }))
        .then(() => this.setData({ busy: false }))
    },
  },
})

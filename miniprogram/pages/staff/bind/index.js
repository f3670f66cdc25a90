const { request } = require('../../../utils/request')
const { subscribeIds } = require('../../../utils/report')

Page({
  data: { code: '', busy: false },

  onCode(e) {
    this.setData({ code: e.detail.value.toUpperCase() })
  },

  bind() {
    if (this.data.code.replace(/-/g, '').length < 12) {
      wx.showToast({ title: '请输入 12 位绑定码', icon: 'none' })
      return
    }
    this.setData({ busy: true })
    request({ url: '/auth/bind-staff', method: 'POST', data: { binding_code: this.data.code } })
      .then((res) => {
        wx.setStorageSync('user', res.user)
        wx.showToast({ title: '绑定成功' })
        this.subscribe()
      })
      .finally(() => this.setData({ busy: false }))
  },

  // Staff templates: new cases and escalations (a tap is required by WeChat).
  subscribe() {
    request({ url: '/subscribe-templates', silent: true }).then((templates) => {
      const ids = subscribeIds(templates, ['new_case', 'escalation'])
      wx.requestSubscribeMessage({
        tmplIds: ids,
        success: (res) => {
          const answers = {}
          ids.forEach((id) => {
            if (res[id]) answers[id] = res[id]
          })
          request({ url: '/staff/subscriptions', method: 'POST', data: answers, silent: true })
        },
      })
    })
  },
})

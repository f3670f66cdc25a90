const { request } = require('../../../utils/request')
const { askToSubscribe } = require('../../../utils/report')

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
    return askToSubscribe(request, wx, ['new_case', 'escalation'])
  },
})

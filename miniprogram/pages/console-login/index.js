// 扫码登录电脑端: scan the QR code on the PC console (or type its code), see
// what is about to be confirmed, confirm, and read the result plainly.
const { request, currentUser } = require('../../utils/request')
const labels = require('../../utils/labels')
const { parseLoginCode, displayCode } = require('../../utils/console-login')

const FALLBACK = {
  404: '登录码无效或已过期，请在电脑上刷新二维码后重新扫描',
  403: '您的身份不能登录电脑端，如有需要请联系管理员',
}

Component({
  data: { step: 'scan', code: '', display: '', typed: '', who: '', error: '', busy: false, result: '' },
  methods: {
    onLoad() {
      return labels.ready().then(() => {
        const user = currentUser()
        if (user) this.setData({ who: (user.department ? user.department.name + ' · ' : '') + labels.role(user.role) })
      })
    },
    scan() {
      wx.scanCode({
        scanType: ['qrCode'],
        success: (res) => this.useText(res.result),
        fail: (err) => {
          if (!/cancel/.test((err && err.errMsg) || '')) this.setData({ error: '没有扫到二维码，请重试，或直接输入电脑上显示的登录码' })
        },
      })
    },
    onTyped(e) {
      this.setData({ typed: e.detail.value, error: '' })
    },
    useTyped() {
      this.useText(this.data.typed)
    },
    useText(text) {
      const code = parseLoginCode(text)
      if (!code) return this.setData({ error: '这不是电脑端的登录码，请扫描电脑登录页上的二维码，或输入 8 位登录码' })
      return this.setData({ step: 'confirm', code, display: displayCode(code), error: '' })
    },
    confirm() {
      if (this.data.busy) return null
      this.setData({ busy: true })
      return request({ url: '/console/logins/' + this.data.code + '/confirm', method: 'POST', data: {}, silent: true })
        .then(
          () => this.setData({ step: 'done', result: '已确认，电脑上会自动进入管理后台。如不是您本人操作，请立即联系管理员。' }),
          (error) => this.setData({ step: 'failed', result: error.code ? error.message : FALLBACK[error.statusCode] || error.message }),
        )
        .then(() => this.setData({ busy: false }))
    },
    again() {
      this.setData({ step: 'scan', code: '', display: '', typed: '', error: '', result: '' })
    },
    back() {
      wx.navigateBack({ delta: 1 })
    },
  },
})

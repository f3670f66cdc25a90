// 工作人员绑定: a one-time code from the administrator makes this WeChat user
// staff of a department. The bind tap first asks WeChat for the new-case and
// escalation reminders (a tap is the only moment WeChat allows it).
const { request, setUser } = require('../../../utils/request')
const subscribe = require('../../../utils/subscribe')
const labels = require('../../../utils/labels')

// A binding code as the console's invite QR holds it, or as typed: 12 letters
// and digits, in groups of four.
function bindingCode(text) {
  const bare = String(text || '').toUpperCase().replace(/[\s-]/g, '')
  return /^[A-Z0-9]{12}$/.test(bare) ? bare.match(/.{4}/g).join('-') : null
}

Component({
  data: { code: '', busy: false, error: '', bound: null, purposes: subscribe.PURPOSES.staff },
  methods: {
    onLoad() {
      subscribe.prefetch()
    },
    scan() {
      wx.scanCode({
        scanType: ['qrCode'],
        success: (res) => {
          const code = bindingCode(res.result)
          if (code) this.setData({ code, error: '' })
          else this.setData({ error: '这不是绑定码的二维码，请扫描管理员电脑上“邀请”页的二维码，或直接输入绑定码' })
        },
        fail: (err) => {
          if (!/cancel/.test((err && err.errMsg) || '')) this.setData({ error: '没有扫到二维码，请重试，或直接输入绑定码' })
        },
      })
    },
    onCode(e) {
      this.setData({ code: e.detail.value.toUpperCase(), error: '' })
    },
    bind() {
      if (this.data.busy) return null
      const code = this.data.code.trim()
      if (code.replace(/-/g, '').length !== 12) {
        this.setData({ error: '请输入 12 位绑定码（如 ABCD-EFGH-JKMN）' })
        return null
      }
      const asked = subscribe.ask(subscribe.PURPOSES.staff)
      this.setData({ busy: true, error: '' })
      return request({ url: '/auth/bind-staff', method: 'POST', data: { binding_code: code }, silent: true })
        .then((res) => {
          setUser(res.user)
          // The answers count for the staff member now bound.
          return Promise.all([asked.then(subscribe.record), labels.ready()]).then(() => {
            const department = res.user.department ? res.user.department.name + ' · ' : ''
            this.setData({ bound: { text: department + labels.role(res.user.role) } })
          })
        })
        .catch((error) => this.setData({ error: error.message }))
        .then(() => this.setData({ busy: false }))
    },
    goQueue() {
      wx.redirectTo({ url: '/pages/staff/queue/index' })
    },
  },
})

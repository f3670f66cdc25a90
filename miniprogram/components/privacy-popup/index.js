// The privacy popup (用户隐私保护指引): shown when WeChat says a location,
// album or camera interface needs consent; the agree button is WeChat's own
// open-type="agreePrivacyAuthorization", so the pending call then goes on.
const privacy = require('../../utils/privacy')

// What the interface that asked is for, in the resident's words.
const PURPOSE = {
  chooseLocation: '在地图上标出问题的位置',
  getLocation: '获取您所在的位置',
  chooseMedia: '拍摄或从相册选择现场照片',
  scanCode: '扫描二维码',
}

Component({
  options: { styleIsolation: 'apply-shared' },
  data: { show: false, purpose: '', contractName: '《用户隐私保护指引》' },
  lifetimes: {
    attached() {
      privacy.attach(this)
      if (typeof wx.getPrivacySetting === 'function') {
        wx.getPrivacySetting({
          success: (res) => res.privacyContractName && this.setData({ contractName: res.privacyContractName }),
        })
      }
    },
    detached() {
      privacy.detach(this)
    },
  },
  pageLifetimes: {
    show() {
      privacy.attach(this)
    },
  },
  methods: {
    open(resolve, eventInfo) {
      this.resolvePending = resolve
      resolve({ event: 'exposureAuthorization' })
      this.setData({ show: true, purpose: PURPOSE[eventInfo.referrer] || '使用该功能' })
    },
    close(answer) {
      const resolve = this.resolvePending
      this.resolvePending = null
      this.setData({ show: false })
      if (resolve) resolve(answer)
    },
    openContract() {
      wx.openPrivacyContract({})
    },
    // bindagreeprivacyauthorization: WeChat has recorded the consent.
    onAgree() {
      this.close({ buttonId: 'agree-btn', event: 'agree' })
    },
    onDisagree() {
      this.close({ event: 'disagree' })
      wx.showToast({ title: '未同意隐私保护指引，暂时无法使用此功能', icon: 'none', duration: 2500 })
    },
  },
})

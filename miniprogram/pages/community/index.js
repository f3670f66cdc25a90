const { request } = require('../../utils/request')
const { formatTime } = require('../../utils/status')

const STEP_NAMES = ['无', '约谈整改', '降星', '清退', '黑名单']

Page({
  data: { community: null, stepName: '' },

  onLoad(query) {
    request({ url: '/communities/' + query.id }).then((c) => {
      c.disclosures = c.disclosures.map((d) => Object.assign({}, d, { when: d.updated_at ? formatTime(d.updated_at) : '' }))
      this.setData({ community: c, stepName: c.property_company ? STEP_NAMES[c.property_company.ladder_step] || '' : '' })
      wx.setNavigationBarTitle({ title: c.name })
    })
  },

  call(e) {
    wx.makePhoneCall({ phoneNumber: e.currentTarget.dataset.phone })
  },
})

// A community's public page: who handles what (管理责任清单进小区), its
// property company with stars and ladder step, and the six disclosures.
const { request } = require('../../utils/request')
const labels = require('../../utils/labels')
const { formatTime } = require('../../utils/status')

Component({
  data: { community: null, stepName: '', loading: true, error: '' },
  methods: {
    onLoad(query) {
      this.communityId = query.id
      return this.load()
    },
    load() {
      this.setData({ loading: true, error: '' })
      return Promise.all([request({ url: '/communities/' + this.communityId, anonymous: true, silent: true }), labels.ready()])
        .then(
          ([c]) => {
            c.disclosures = c.disclosures.map((d) => Object.assign({}, d, { when: d.updated_at ? formatTime(d.updated_at) : '' }))
            const company = c.property_company
            this.setData({ community: c, stepName: company ? labels.ladder(company.ladder_step) : '' })
            wx.setNavigationBarTitle({ title: c.name })
          },
          (error) => this.setData({ error: error.message }),
        )
        .then(() => this.setData({ loading: false }))
    },
    call(e) {
      const phone = e.currentTarget.dataset.phone
      if (phone) wx.makePhoneCall({ phoneNumber: phone })
    },
  },
})

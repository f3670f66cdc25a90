// How many WeChat reminders are left, and a button that tops them up: a
// one-time template grants one message per accept, so staff tap again.
const subscribe = require('../../utils/subscribe')

const NAMES = { new_case: '新工单提醒', escalation: '超期督办提醒', case_update: '办理进度提醒' }

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: { purposes: { type: Array, value: [] } },
  data: { rows: [], empty: false, busy: false, loaded: false },
  lifetimes: {
    attached() {
      this.refresh()
    },
  },
  pageLifetimes: {
    show() {
      if (this.data.loaded) this.refresh()
    },
  },
  methods: {
    refresh() {
      const templates = subscribe.cachedTemplates()
      const loading = templates ? Promise.resolve(templates) : subscribe.loadTemplates()
      return Promise.all([loading, subscribe.quota()])
        .then(([t, quotas]) => this.paint(t, quotas))
        .catch(() => this.setData({ loaded: true }))
    },
    paint(templates, quotas) {
      const rows = subscribe.remainingByPurpose(templates, quotas, this.data.purposes).map((r) => Object.assign(r, { name: NAMES[r.purpose] || r.purpose }))
      this.setData({ rows, empty: rows.some((r) => !r.remaining), loaded: true })
    },
    // WeChat's popup is asked for synchronously, inside this tap.
    topUp() {
      if (this.data.busy) return null
      const asked = subscribe.askAndRecord(this.data.purposes)
      this.setData({ busy: true })
      return asked
        .then((quotas) => (quotas ? this.paint(subscribe.cachedTemplates(), quotas) : this.refresh()))
        .then(() => this.setData({ busy: false }))
    },
  },
})

const { badge, stepBadge } = require('../../utils/status')

Component({
  properties: {
    status: { type: String, value: '' },
    step: { type: String, value: '' },
  },
  data: { label: '', color: '', stepLabel: '', stepColor: '' },
  observers: {
    'status, step': function (status, step) {
      const b = badge(status)
      const s = stepBadge(step)
      this.setData({ label: b.label, color: b.color, stepLabel: s ? s.label : '', stepColor: s ? s.color : '' })
    },
  },
})

// A case's status and ladder step as badges, in the county's words.
const labels = require('../../utils/labels')
const { statusColor, stepColor } = require('../../utils/status')

Component({
  properties: {
    status: { type: String, value: '' },
    step: { type: String, value: '' },
  },
  data: { label: '', color: '', stepLabel: '', stepColor: '' },
  observers: {
    'status, step': function () {
      this.paint()
    },
  },
  lifetimes: {
    attached() {
      labels.ready().then(() => this.paint())
    },
  },
  methods: {
    paint() {
      const { status, step } = this.data
      this.setData({ label: labels.status(status), color: statusColor(status), stepLabel: labels.step(step), stepColor: stepColor(step) })
    },
  },
})

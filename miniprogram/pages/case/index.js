// A resident's case (the page a case_update push opens): everything about it,
// and the rate / reopen steps when the server offers them. Reopening asks for
// the progress reminder inside the tap.
const casePage = require('../../behaviors/case-page')
const subscribe = require('../../utils/subscribe')

Component({
  behaviors: [casePage],
  data: { pushAfter: { reopen: subscribe.PURPOSES.resident } },
  methods: {
    onShow() {
      subscribe.prefetch()
    },
  },
})

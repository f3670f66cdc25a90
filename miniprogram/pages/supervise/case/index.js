// 督办工单 (the page an escalation push opens for supervisors): the whole
// case, a pending extension to approve or deny, and the supervision steps the
// server offers (re-dispatch, reject, merge, refer).
const casePage = require('../../../behaviors/case-page')

Component({
  behaviors: [casePage],
})

// 办理工单 (the page a new_case / escalation push opens for staff): the
// resident's photos, the location, the whole timeline and the deadlines, and
// the handling steps the server offers this caller (the primary department's
// staff get accept / resolve / return / extension / refer; co-handlers and the
// township get progress only).
const casePage = require('../../../behaviors/case-page')

Component({
  behaviors: [casePage],
})

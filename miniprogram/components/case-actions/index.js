// The buttons for exactly the steps the server lists in the case's
// "actions", and the form of the chosen step. A step that should be followed
// by a push (pushAfter: {action: [purposes]}) asks for the subscription first
// thing in the confirming tap, as WeChat requires.
const { request } = require('../../utils/request')
const labels = require('../../utils/labels')
const subscribe = require('../../utils/subscribe')
const steps = require('../../utils/actions')
const { formatDate } = require('../../utils/status')

const EMPTY = { note: '', reason: '', until: '', department: '', category: '', into: '', score: 0, comment: '', violation: '' }

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    c: { type: Object, value: null },
    pushAfter: { type: Object, value: {} },
  },
  data: { buttons: [], mode: '', fields: [], form: EMPTY, clause: false, categories: [], departments: [], busy: false, error: '', today: '' },
  observers: {
    c: function (c) {
      if (!c) return
      // A step this version does not know yet (a newer server) is not offered.
      const actions = (c.actions || []).filter((action) => steps.FIELDS[action])
      labels.ready().then(() => {
        const buttons = actions.map((action) => ({ action, label: labels.event(steps.EVENT_KIND[action] || action), warn: steps.WARN.indexOf(action) >= 0 }))
        this.setData({ buttons, today: formatDate(new Date()) })
      })
      if (actions.indexOf('resolve') >= 0 || actions.indexOf('dispatch') >= 0) this.loadCategories(c)
      if (this.data.mode && actions.indexOf(this.data.mode) < 0) this.cancel()
    },
  },
  methods: {
    loadCategories(c) {
      return request({ url: '/categories', anonymous: true, silent: true }).then((res) => {
        const own = res.items.find((x) => x.code === c.category)
        this.setData({ categories: res.items, clause: Boolean(own && own.clause) })
      }, () => null)
    },
    loadDepartments() {
      return request({ url: '/departments', silent: true }).then((res) => this.setData({ departments: res.items }), () => null)
    },
    choose(e) {
      const action = e.currentTarget.dataset.action
      const fields = steps.FIELDS[action] || []
      if (!fields.length) return this.confirmStep(action)
      if (action === 'refer' && !this.data.departments.length) this.loadDepartments()
      const label = this.data.buttons.find((b) => b.action === action).label
      this.setData({ mode: action, modeLabel: label, fields, form: Object.assign({}, EMPTY), error: '' })
      return null
    },
    // WeChat answers null when nothing matches; only ask when the form has photos.
    picker(action) {
      return (steps.FIELDS[action] || []).indexOf('photos') >= 0 ? this.selectComponent('#action-photos') : null
    },
    cancel() {
      const picker = this.picker(this.data.mode)
      if (picker) picker.clear()
      this.setData({ mode: '', fields: [], form: Object.assign({}, EMPTY), error: '' })
    },
    onField(e) {
      this.setData({ ['form.' + e.currentTarget.dataset.field]: e.detail.value })
    },
    onPick(e) {
      const { field, list, key } = e.currentTarget.dataset
      const item = this.data[list][Number(e.detail.value)]
      this.setData({ ['form.' + field]: item ? item[key] : '', ['form.' + field + 'Name']: item ? item.name : '' })
    },
    setScore(e) {
      this.setData({ 'form.score': Number(e.currentTarget.dataset.score) })
    },
    confirm() {
      return this.confirmStep(this.data.mode)
    },
    // The tap that sends: checks, then the subscription popup (synchronously,
    // still inside the tap), then the network.
    confirmStep(action) {
      if (this.data.busy || !action) return null
      const picker = this.picker(action)
      const ctx = { clause: this.data.clause, photoCount: picker ? picker.count() : 0, caseId: this.data.c.id }
      const problem = steps.validate(action, this.data.form, ctx)
      this.setData({ error: problem })
      if (problem) return null
      const purposes = (this.data.pushAfter || {})[action]
      if (purposes) subscribe.askAndRecord(purposes)
      this.setData({ busy: true })
      return this.send(action, picker, ctx).then(() => this.setData({ busy: false }))
    },
    async send(action, picker, ctx) {
      let ids = []
      if (picker) {
        ids = await picker.uploadAll()
        if (!ids) return this.setData({ error: '有照片未上传成功，请点击照片重试' })
      }
      try {
        const answer = await request({ url: steps.endpoint(action, this.data.c.id), method: 'POST', data: steps.body(action, this.data.form, ids, ctx) })
        wx.showToast({ title: '提交成功', icon: 'success' })
        this.cancel()
        this.triggerEvent('done', { action, answer })
      } catch (error) {
        this.setData({ error: error.message })
      }
      return null
    },
  },
})

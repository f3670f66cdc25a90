const { request, upload, absoluteUrl, currentUser } = require('../../../utils/request')
const { uploadAll } = require('../../../utils/report')
const { EVENTS, formatTime } = require('../../../utils/status')

Page({
  data: { c: null, timeline: [], isPrimary: false, clause: false, note: '', photos: [], violation: '', reason: '', until: '', busy: false },

  onLoad(query) {
    this.id = query.id
    this.load()
  },

  load() {
    return Promise.all([request({ url: '/cases/' + this.id }), request({ url: '/categories' })]).then(([c, categories]) => {
      const user = currentUser()
      const primary = c.departments[0]
      const category = categories.items.find((x) => x.code === c.category)
      this.setData({
        c,
        isPrimary: Boolean(user && user.department && primary && primary.id === user.department.id),
        clause: Boolean(category && category.clause),
        timeline: c.timeline.map((e) => Object.assign({}, e, { label: EVENTS[e.kind] || e.kind, when: formatTime(e.at) })),
      })
    })
  },

  onNote(e) {
    this.setData({ note: e.detail.value })
  },
  onReason(e) {
    this.setData({ reason: e.detail.value })
  },
  onUntil(e) {
    this.setData({ until: e.detail.value })
  },
  onViolation(e) {
    this.setData({ violation: e.detail.value })
  },

  choosePhotos() {
    wx.chooseMedia({
      count: 9 - this.data.photos.length,
      mediaType: ['image'],
      sizeType: ['compressed'],
      success: (res) => this.setData({ photos: this.data.photos.concat(res.tempFiles.map((f) => ({ path: f.tempFilePath, status: 'pending' }))) }),
    })
  },

  async step(path, data) {
    if (this.data.busy) return
    this.setData({ busy: true })
    try {
      await request({ url: '/staff/cases/' + this.id + '/' + path, method: 'POST', data })
      wx.showToast({ title: '已提交' })
      this.setData({ note: '', reason: '', photos: [] })
      await this.load()
    } catch (e) {
      // toast shown by the request helper
    } finally {
      this.setData({ busy: false })
    }
  },

  async withPhotos() {
    const photos = this.data.photos
    const ok = await uploadAll(photos, upload, (i, p) => this.setData({ ['photos[' + i + ']']: Object.assign({}, p) }))
    if (!ok) wx.showToast({ title: '有照片未上传成功，请重试', icon: 'none' })
    return ok ? photos.map((p) => p.id) : null
  },

  accept() {
    this.step('accept', {})
  },

  async progress() {
    const ids = await this.withPhotos()
    if (ids) this.step('progress', { note: this.data.note, photo_ids: ids })
  },

  async resolve() {
    if (!this.data.photos.length) {
      wx.showToast({ title: '办结需要至少一张现场照片', icon: 'none' })
      return
    }
    if (this.data.clause && !this.data.violation) {
      wx.showToast({ title: '请认定是否查实违反“九不准”', icon: 'none' })
      return
    }
    const ids = await this.withPhotos()
    if (!ids) return
    const body = { note: this.data.note, photo_ids: ids }
    if (this.data.clause) body.violation = this.data.violation
    this.step('resolve', body)
  },

  giveBack() {
    this.step('return', { reason: this.data.reason })
  },

  extend() {
    this.step('extension', { reason: this.data.reason, until: this.data.until })
  },

  url(path) {
    return absoluteUrl(path)
  },
})

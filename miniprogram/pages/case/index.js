const { request, absoluteUrl } = require('../../utils/request')
const { EVENTS, formatTime } = require('../../utils/status')

Page({
  data: { c: null, timeline: [], score: 5, comment: '', reason: '', showReopen: false },

  onLoad(query) {
    this.id = query.id
    this.load()
  },

  load() {
    return request({ url: '/cases/' + this.id }).then((c) => {
      const photos = (list) => list.map((p) => Object.assign({}, p, { url: absoluteUrl(p.url), thumb: absoluteUrl(p.thumb_url) }))
      this.setData({
        c: Object.assign({}, c, { photos: photos(c.photos), photoUrls: photos(c.photos).map((p) => p.url) }),
        timeline: c.timeline.map((e) => Object.assign({}, e, { label: EVENTS[e.kind] || e.kind, when: formatTime(e.at), photos: photos(e.photos) })),
      })
    })
  },

  openCommunity() {
    wx.navigateTo({ url: '/pages/community/index?id=' + this.data.c.community.id })
  },

  preview(e) {
    const { url, urls } = e.currentTarget.dataset
    wx.previewImage({ current: url, urls })
  },

  setScore(e) {
    this.setData({ score: Number(e.currentTarget.dataset.score) })
  },

  onComment(e) {
    this.setData({ comment: e.detail.value })
  },

  rate() {
    request({ url: '/cases/' + this.id + '/rating', method: 'POST', data: { score: this.data.score, comment: this.data.comment } }).then(() => {
      wx.showToast({ title: '感谢您的评价' })
      this.load()
    })
  },

  toggleReopen() {
    this.setData({ showReopen: !this.data.showReopen })
  },

  onReason(e) {
    this.setData({ reason: e.detail.value })
  },

  reopen() {
    if (this.data.reason.trim().length < 2) {
      wx.showToast({ title: '请说明不满意的原因', icon: 'none' })
      return
    }
    request({ url: '/cases/' + this.id + '/reopen', method: 'POST', data: { reason: this.data.reason } }).then(() => {
      wx.showToast({ title: '已退回部门重新办理', icon: 'none' })
      this.setData({ showReopen: false })
      this.load()
    })
  },
})

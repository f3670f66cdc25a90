// 我要报事: a resident reports a problem. The subscription popup is asked for
// inside the submit tap; the filing rides out a restarting backend with the
// same Idempotency-Key, and a report that could not be sent stays on the
// phone (with its key) to be sent again.
const { request } = require('../../utils/request')
const { groupCategories, validate, caseBody } = require('../../utils/report')
const { newKey } = require('../../utils/idempotency')
const subscribe = require('../../utils/subscribe')
const drafts = require('../../utils/drafts')
const limits = require('../../utils/limits')
const { formatTime } = require('../../utils/status')

const BLANK = { category: null, community: null, communityQuery: '', communities: [], description: '', locationText: '', lat: null, lng: null, anonymous: false, errors: [], draftNote: '' }

Component({
  data: Object.assign({ groups: [], loading: true, loadError: '', submitting: false, limits }, BLANK),
  methods: {
    onLoad() {
      this.key = newKey()
      this.searchSeq = 0
      subscribe.prefetch()
      return this.loadCategories()
    },
    // After the first render, when the photo picker is there to take them.
    onReady() {
      this.restoreDraft()
    },
    loadCategories() {
      this.setData({ loading: true, loadError: '' })
      return request({ url: '/categories', anonymous: true, silent: true })
        .then(
          (res) => this.setData({ groups: groupCategories(res.items) }),
          (error) => this.setData({ loadError: error.message }),
        )
        .then(() => this.setData({ loading: false }))
    },
    pickCategory(e) {
      const { group, index } = e.currentTarget.dataset
      this.setData({ category: this.data.groups[group].items[index] })
    },
    searchCommunity(e) {
      const q = e.detail.value
      const seq = ++this.searchSeq
      this.setData({ communityQuery: q })
      if (!q.trim()) return this.setData({ communities: [] })
      return request({ url: '/communities?q=' + encodeURIComponent(q.trim()), anonymous: true, silent: true }).then(
        (res) => seq === this.searchSeq && this.setData({ communities: res.items }),
        () => null,
      )
    },
    pickCommunity(e) {
      this.setData({ community: this.data.communities[e.currentTarget.dataset.index], communities: [], communityQuery: '' })
    },
    openCommunity() {
      wx.navigateTo({ url: '/pages/community/index?id=' + this.data.community.id })
    },
    onDescription(e) {
      this.setData({ description: e.detail.value })
    },
    onLocationText(e) {
      this.setData({ locationText: e.detail.value })
    },
    toggleAnonymous(e) {
      this.setData({ anonymous: e.detail.value })
    },
    chooseLocation() {
      wx.chooseLocation({
        success: (res) => this.setData({ locationText: (res.name || res.address || '').slice(0, limits.locationText), lat: res.latitude, lng: res.longitude }),
        fail: (err) => {
          if (!/cancel/.test((err && err.errMsg) || '')) wx.showToast({ title: '暂时无法打开地图，请直接填写位置', icon: 'none' })
        },
      })
    },
    form() {
      const d = this.data
      const picker = this.selectComponent('#photos')
      return {
        category: d.category && d.category.code,
        communityId: d.community && d.community.id,
        description: d.description,
        locationText: d.locationText,
        lat: d.lat,
        lng: d.lng,
        anonymous: d.anonymous,
        photos: picker ? picker.snapshot() : [],
      }
    },
    // The submit tap: checks, then WeChat's subscription popup (synchronously,
    // before any network), then the uploads and the filing.
    submit() {
      if (this.data.submitting) return null // a double tap files one case
      const form = this.form()
      const errors = validate(form)
      this.setData({ errors })
      if (errors.length) return null
      subscribe.askAndRecord(subscribe.PURPOSES.resident)
      this.setData({ submitting: true })
      return this.file(form).then(() => this.setData({ submitting: false }))
    },
    async file(form) {
      const picker = this.selectComponent('#photos')
      const ids = await picker.uploadAll()
      if (!ids) {
        this.keepDraft(form)
        wx.showToast({ title: '有照片未上传成功，请点击照片重试后再提交', icon: 'none', duration: 3000 })
        return
      }
      try {
        const answer = await request({ url: '/cases', method: 'POST', data: caseBody(form, ids), header: { 'Idempotency-Key': this.key }, retry: true, silent: true })
        this.filed(answer)
      } catch (error) {
        this.notFiled(form, error)
      }
    },
    filed(answer) {
      drafts.clear()
      this.key = newKey()
      this.setData(Object.assign({}, BLANK))
      this.selectComponent('#photos').clear()
      wx.showToast({ title: '提交成功', icon: 'success' })
      wx.navigateTo({ url: '/pages/case/index?id=' + answer.id })
    },
    notFiled(form, error) {
      if (error.unavailable) {
        this.keepDraft(form)
        wx.showModal({
          title: '暂时没有发出',
          content: '网络或服务器暂时不可用，您的报事已保存在手机上。稍后回到本页点“提交”即可再次发送，不会重复提交。',
          showCancel: false,
          confirmText: '知道了',
        })
      } else if (error.code === 'idempotency_key_reused') {
        // The first sending of this report did arrive: it is already filed.
        drafts.clear()
        this.key = newKey()
        wx.showModal({
          title: '上次的报事已提交成功',
          content: '上次没有确认发出的那份报事其实已经提交成功，请到“我的工单”查看；如还要反映新的问题，请再点一次“提交”。',
          showCancel: false,
        })
      } else {
        this.setData({ errors: [error.message] })
      }
    },
    // Photos as they are now: the uploaded ones keep their ids.
    keepDraft(form) {
      const photos = this.selectComponent('#photos').snapshot()
      drafts.save({ key: this.key, form: Object.assign({}, form, { photos, category: this.data.category, community: this.data.community }) })
      this.setData({ draftNote: '这份报事已保存在手机上（' + formatTime(new Date()) + '），点“提交”可再次发送。' })
    },
    restoreDraft() {
      const draft = drafts.load()
      if (!draft) return
      const f = draft.form
      this.key = draft.key
      this.setData({
        category: f.category,
        community: f.community,
        description: f.description,
        locationText: f.locationText,
        lat: f.lat,
        lng: f.lng,
        anonymous: f.anonymous,
        draftNote: '上次没有发出的报事已恢复（保存于 ' + formatTime(new Date(draft.saved_at)) + '），点“提交”即可再次发送。',
      })
      const picker = this.selectComponent('#photos')
      if (picker) picker.restore(f.photos)
    },
    discardDraft() {
      drafts.clear()
      this.key = newKey()
      this.setData(Object.assign({}, BLANK))
      this.selectComponent('#photos').clear()
    },
  },
})

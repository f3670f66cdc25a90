const { request, upload } = require('../../utils/request')
const { groupCategories, validate, uploadAll, caseBody, askToSubscribe, MAX_PHOTOS } = require('../../utils/report')
const { newKey } = require('../../utils/idempotency')

Page({
  data: {
    groups: [],
    category: null,
    communityQuery: '',
    communities: [],
    community: null,
    description: '',
    locationText: '',
    lat: null,
    lng: null,
    anonymous: false,
    photos: [],
    maxPhotos: MAX_PHOTOS,
    errors: [],
    submitting: false,
  },

  onLoad() {
    this.key = newKey()
    request({ url: '/categories' }).then((res) => this.setData({ groups: groupCategories(res.items) }))
  },

  pickCategory(e) {
    const { group, index } = e.currentTarget.dataset
    this.setData({ category: this.data.groups[group].items[index] })
  },

  searchCommunity(e) {
    const q = e.detail.value
    this.setData({ communityQuery: q })
    request({ url: '/communities?q=' + encodeURIComponent(q) }).then((res) => this.setData({ communities: res.items }))
  },

  pickCommunity(e) {
    this.setData({ community: this.data.communities[e.currentTarget.dataset.index], communities: [] })
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
      success: (res) => this.setData({ locationText: (res.name || res.address || '').slice(0, 200), lat: res.latitude, lng: res.longitude }),
    })
  },

  choosePhotos() {
    const left = MAX_PHOTOS - this.data.photos.length
    if (left <= 0) return
    wx.chooseMedia({
      count: left,
      mediaType: ['image'],
      sizeType: ['compressed'],
      sourceType: ['album', 'camera'],
      success: (res) => {
        const added = res.tempFiles.map((f) => ({ path: f.tempFilePath, status: 'pending', progress: 0 }))
        this.setData({ photos: this.data.photos.concat(added) })
        this.uploadPhotos()
      },
    })
  },

  removePhoto(e) {
    const photos = this.data.photos.slice()
    photos.splice(e.currentTarget.dataset.index, 1)
    this.setData({ photos })
  },

  previewPhoto(e) {
    wx.previewImage({ current: this.data.photos[e.currentTarget.dataset.index].path, urls: this.data.photos.map((p) => p.path) })
  },

  uploadPhotos() {
    const photos = this.data.photos
    return uploadAll(photos, upload, (i, photo) => this.setData({ ['photos[' + i + ']']: Object.assign({}, photo) }))
  },

  async submit() {
    if (this.data.submitting) return // a double tap files one case
    const form = {
      category: this.data.category && this.data.category.code,
      communityId: this.data.community && this.data.community.id,
      description: this.data.description,
      locationText: this.data.locationText,
      lat: this.data.lat,
      lng: this.data.lng,
      anonymous: this.data.anonymous,
      photos: this.data.photos,
    }
    const errors = validate(form)
    this.setData({ errors })
    if (errors.length) return
    this.setData({ submitting: true })
    try {
      await this.askToBeNotified()
      if (!(await this.uploadPhotos())) {
        wx.showToast({ title: '有照片未上传成功，请点击重试', icon: 'none' })
        return
      }
      const answer = await request({ url: '/cases', method: 'POST', data: caseBody(form), header: { 'Idempotency-Key': this.key } })
      this.key = newKey()
      wx.showToast({ title: '已提交，编号 ' + answer.number, icon: 'none' })
      wx.navigateTo({ url: '/pages/case/index?id=' + answer.id })
      this.setData({ category: null, description: '', locationText: '', photos: [], errors: [] })
    } catch (e) {
      // The helper showed the backend's message; the key stays for a retry.
    } finally {
      this.setData({ submitting: false })
    }
  },

  askToBeNotified() {
    return askToSubscribe(request, wx, ['case_update'])
  },
})

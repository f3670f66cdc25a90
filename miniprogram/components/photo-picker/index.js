// The one photo picker: choose (camera or album), upload one by one with
// progress as soon as chosen, retry a failed one, preview, remove. The page
// calls uploadAll() before sending and gets the photo ids (or null).
const { upload, absoluteUrl } = require('../../utils/request')
const limits = require('../../utils/limits')

let nextKey = 1

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    max: { type: Number, value: limits.photos },
    title: { type: String, value: '照片' },
    hint: { type: String, value: '' },
  },
  data: { photos: [] },
  methods: {
    choose() {
      const left = this.data.max - this.data.photos.length
      if (left <= 0) {
        wx.showToast({ title: '最多 ' + this.data.max + ' 张照片', icon: 'none' })
        return
      }
      wx.chooseMedia({
        count: left,
        mediaType: ['image'],
        sizeType: ['compressed'],
        sourceType: ['album', 'camera'],
        success: (res) => {
          const added = res.tempFiles.slice(0, left).map((f) => ({ key: nextKey++, path: f.tempFilePath, status: 'pending', progress: 0 }))
          this.show(this.data.photos.concat(added))
          this.uploadAll()
        },
        fail: (err) => {
          if (!/cancel/.test((err && err.errMsg) || '')) wx.showToast({ title: '无法选择照片，请稍后重试', icon: 'none' })
        },
      })
    },
    show(photos) {
      this.setData({ photos })
      this.triggerEvent('change', { count: photos.length })
    },
    update(key, patch) {
      const i = this.data.photos.findIndex((p) => p.key === key)
      if (i >= 0) this.setData({ ['photos[' + i + ']']: Object.assign({}, this.data.photos[i], patch) })
    },
    remove(e) {
      const photos = this.data.photos.filter((p) => p.key !== e.currentTarget.dataset.key || p.status === 'uploading')
      this.show(photos)
    },
    preview(e) {
      const urls = this.data.photos.map((p) => p.path || p.url)
      wx.previewImage({ current: urls[e.currentTarget.dataset.index], urls })
    },
    retry() {
      this.uploadAll()
    },
    // Uploads what is not uploaded yet (waiting for one already running);
    // answers the ids of every photo, or null if one still failed.
    uploadAll() {
      if (this.running) return this.running.then(() => this.uploadAll())
      const done = (ids) => {
        this.running = null
        return ids
      }
      this.running = this.uploadPending().then(done, () => done(null))
      return this.running
    },
    async uploadPending() {
      for (const photo of this.data.photos.slice()) {
        if (photo.status === 'done') continue
        this.update(photo.key, { status: 'uploading', progress: 0 })
        try {
          const answer = await upload({ filePath: photo.path, silent: true, retry: true, onProgress: (p) => this.update(photo.key, { progress: p }) })
          this.update(photo.key, { status: 'done', progress: 100, id: answer.id, url: absoluteUrl(answer.url), thumb: absoluteUrl(answer.thumb_url) })
        } catch (error) {
          this.update(photo.key, { status: 'failed', error: error.message })
        }
      }
      const photos = this.data.photos
      return photos.every((p) => p.status === 'done') ? photos.map((p) => p.id) : null
    },
    count() {
      return this.data.photos.length
    },
    // For a draft: uploaded photos keep their ids, the others their files.
    snapshot() {
      return this.data.photos.map((p) => ({ path: p.path, id: p.id, url: p.url, thumb: p.thumb, status: p.status === 'done' ? 'done' : 'pending' }))
    },
    restore(photos) {
      this.show((photos || []).map((p) => Object.assign({ key: nextKey++, progress: 0 }, p)))
    },
    clear() {
      this.show([])
    },
  },
})

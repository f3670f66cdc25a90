// Everything known about a case, the same for the resident, the staff and the
// supervisors: description, photos (tap to enlarge the set), location (open
// the map), departments and their roles, deadlines, the whole timeline.
const labels = require('../../utils/labels')
const { absoluteUrl } = require('../../utils/request')
const { formatTime, parseTime, remaining } = require('../../utils/status')

function photoView(list) {
  return (list || []).map((p) => ({ id: p.id, thumb: absoluteUrl(p.thumb_url || p.url), url: absoluteUrl(p.url) }))
}

// The clocks still running for this status (the server keeps both dates).
const RUNNING = { accept: ['dispatched'], resolve: ['dispatched', 'accepted', 'reopened'] }

function deadlines(c, now) {
  return ['accept', 'resolve']
    .filter((kind) => c[kind + '_due_at'])
    .map((kind) => {
      const at = c[kind + '_due_at']
      const running = RUNNING[kind].indexOf(c.status) >= 0
      return {
        kind,
        label: labels.deadline(kind),
        when: formatTime(at),
        left: running ? remaining(at, now) : '',
        late: running && parseTime(at).getTime() < now,
      }
    })
}

function timeline(c) {
  return (c.timeline || []).map((e, i) => {
    const photos = photoView(e.photos)
    return {
      key: i,
      label: labels.event(e.kind),
      step: e.step ? labels.step(e.step) : '',
      by: e.by || '',
      when: formatTime(e.at),
      note: e.note || '',
      photos,
      urls: photos.map((p) => p.url),
    }
  })
}

function view(c, now) {
  const photos = photoView(c.photos)
  const pending = c.pending_extension
  return {
    photos,
    urls: photos.map((p) => p.url),
    hasPoint: typeof c.lat === 'number' && typeof c.lng === 'number',
    deadlines: deadlines(c, now),
    timeline: timeline(c),
    pending: pending ? { until: formatTime(pending.until), reason: pending.reason } : null,
  }
}

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: { c: { type: Object, value: null } },
  data: { v: null },
  observers: {
    c: function (c) {
      if (c) labels.ready().then(() => this.setData({ v: view(c, Date.now()) }))
    },
  },
  methods: {
    preview(e) {
      const { urls, index } = e.currentTarget.dataset
      wx.previewImage({ current: urls[index], urls })
    },
    openLocation() {
      const c = this.data.c
      if (!this.data.v.hasPoint) return
      wx.openLocation({ latitude: c.lat, longitude: c.lng, scale: 17, name: c.location_text || c.community.name, address: c.community.name })
    },
    openCommunity() {
      wx.navigateTo({ url: '/pages/community/index?id=' + this.data.c.community.id })
    },
  },
})

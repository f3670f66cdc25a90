// The backend's limits (see its API contract), in one place for every form.
module.exports = {
  photos: 9, // photo_ids: 0-9 on a report, a progress note or a resolution
  description: { min: 5, max: 1000 },
  locationText: 200,
  note: { min: 1, max: 1000 },
  reason: { min: 2, max: 500 },
  comment: 500,
  subscribeIds: 3, // wx.requestSubscribeMessage takes at most 3 template ids a call
}

// The report form's rules and its upload sequence, kept out of the Page so
// they can be tested without a phone.
const MAX_PHOTOS = 9

// Categories grouped as the county's list groups them (治脏 first, then 治乱).
function groupCategories(items) {
  const order = []
  const groups = {}
  items.forEach((c) => {
    if (!groups[c.group]) {
      groups[c.group] = []
      order.push(c.group)
    }
    groups[c.group].push(c)
  })
  const rank = (g) => (g === '治脏' ? 0 : g === '治乱' ? 1 : 2)
  order.sort((a, b) => rank(a) - rank(b))
  return order.map((group) => ({ group, title: group === '治脏' ? '环境“治脏”' : group === '治乱' ? '行业“治乱”' : group, items: groups[group] }))
}

function validate(form) {
  const errors = []
  if (!form.category) errors.push('请选择问题类别')
  if (!form.communityId) errors.push('请选择小区')
  const text = (form.description || '').trim()
  if (text.length < 5) errors.push('问题描述至少 5 个字')
  if (text.length > 1000) errors.push('问题描述最多 1000 个字')
  if ((form.locationText || '').length > 200) errors.push('位置描述最多 200 个字')
  if ((form.photos || []).length > MAX_PHOTOS) errors.push('最多上传 ' + MAX_PHOTOS + ' 张照片')
  return errors
}

// Upload the photos one by one, in order; a photo already uploaded is not
// sent again, so a retry only sends the failed ones.
async function uploadAll(photos, upload, onChange) {
  for (let i = 0; i < photos.length; i++) {
    const photo = photos[i]
    if (photo.status === 'done') continue
    photo.status = 'uploading'
    photo.progress = 0
    onChange && onChange(i, photo)
    try {
      const answer = await upload({
        filePath: photo.path,
        silent: true,
        onProgress: (p) => {
          photo.progress = p
          onChange && onChange(i, photo)
        },
      })
      photo.status = 'done'
      photo.progress = 100
      photo.id = answer.id
    } catch (error) {
      photo.status = 'failed'
      photo.error = error.message
    }
    onChange && onChange(i, photo)
  }
  return photos.every((p) => p.status === 'done')
}

function caseBody(form) {
  const body = {
    category: form.category,
    community_id: form.communityId,
    description: form.description.trim(),
    location_text: (form.locationText || '').trim(),
    photo_ids: (form.photos || []).map((p) => p.id),
    anonymous: Boolean(form.anonymous),
  }
  if (typeof form.lat === 'number' && typeof form.lng === 'number') {
    body.lat = form.lat
    body.lng = form.lng
  }
  return body
}

// wx.requestSubscribeMessage takes at most 3 template ids a call.
function subscribeIds(templates, purposes) {
  return purposes.map((p) => templates[p]).filter(Boolean).slice(0, 3)
}

// Ask the user (from a tap) to accept the templates of these purposes and
// tell the backend what they answered; never fails the caller's action.
function askToSubscribe(request, api, purposes) {
  return request({ url: '/subscribe-templates', silent: true })
    .then((templates) => {
      const ids = subscribeIds(templates, purposes)
      if (!ids.length) return null
      return new Promise((resolve) => {
        api.requestSubscribeMessage({
          tmplIds: ids,
          success: (res) => {
            const answers = {}
            ids.forEach((id) => {
              if (res[id]) answers[id] = res[id]
            })
            request({ url: '/staff/subscriptions', method: 'POST', data: answers, silent: true }).then(resolve, resolve)
          },
          fail: resolve,
        })
      })
    })
    .catch(() => null)
}

module.exports = { MAX_PHOTOS, groupCategories, validate, uploadAll, caseBody, subscribeIds, askToSubscribe }

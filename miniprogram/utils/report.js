// The report form's rules, kept out of the page so they can be tested alone.
const limits = require('./limits')

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
  const title = (g) => (g === '治脏' ? '环境“治脏”' : g === '治乱' ? '行业“治乱”' : g)
  return order.map((group) => ({ group, title: title(group), items: groups[group] }))
}

function validate(form) {
  const errors = []
  if (!form.category) errors.push('请选择问题类别')
  if (!form.communityId) errors.push('请选择小区')
  const text = (form.description || '').trim()
  if (text.length < limits.description.min) errors.push('问题描述至少 ' + limits.description.min + ' 个字')
  if (text.length > limits.description.max) errors.push('问题描述最多 ' + limits.description.max + ' 个字')
  if ((form.locationText || '').length > limits.locationText) errors.push('位置描述最多 ' + limits.locationText + ' 个字')
  if ((form.photos || []).length > limits.photos) errors.push('最多上传 ' + limits.photos + ' 张照片')
  return errors
}

function caseBody(form, photoIds) {
  const body = {
    category: form.category,
    community_id: form.communityId,
    description: form.description.trim(),
    location_text: (form.locationText || '').trim(),
    photo_ids: photoIds || [],
    anonymous: Boolean(form.anonymous),
  }
  if (typeof form.lat === 'number' && typeof form.lng === 'number') {
    body.lat = form.lat
    body.lng = form.lng
  }
  return body
}

module.exports = { groupCategories, validate, caseBody }

// One key per report form, kept until the case is filed, so a double tap
// or a retry after a lost answer files one case.
function newKey(random) {
  const r = random || Math.random
  let key = 'rep-' + Date.now().toString(36) + '-'
  for (let i = 0; i < 12; i++) key += Math.floor(r() * 36).toString(36)
  return key
}

module.exports = { newKey }

// WeChat calls one onNeedPrivacyAuthorization listener for the whole app
// when a location, album or camera interface needs the user's consent; it is
// handed to the privacy popup of the page in front.
const popups = []
let registeredOn = null

function register() {
  if (registeredOn === wx || typeof wx.onNeedPrivacyAuthorization !== 'function') return
  registeredOn = wx
  wx.onNeedPrivacyAuthorization((resolve, eventInfo) => {
    const popup = popups[popups.length - 1]
    if (popup) popup.open(resolve, eventInfo || {})
    else resolve({ event: 'disagree' })
  })
}

// A popup on the page being shown goes to the front.
function attach(popup) {
  register()
  detach(popup)
  popups.push(popup)
}

function detach(popup) {
  const i = popups.indexOf(popup)
  if (i >= 0) popups.splice(i, 1)
}

module.exports = { attach, detach }
